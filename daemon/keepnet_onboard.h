// `scimsync keepnet onboard`: from a Keepnet reseller credential to a scimsync
// config for one customer (docs/keepnet.md).
//
// Steps, in this order; each request's outcome is one printed line (ids, never a
// secret; every line passes through Redact()):
//   0. inputs, before any request: the credentials file (mode checked like a token
//      file; default $CREDENTIALS_DIRECTORY/keepnet), the company and DEC files
//      (every required field, `file:line: key: message`), --scim-name (1..30
//      characters), --map syntax, --source, and that neither --out nor its token
//      file exists (unless --force). Anything wrong: exit 2, nothing sent.
//   1. company: --company-id is used as given; with --new-company, the companies
//      the credential manages are searched by Name (POST /api/companies/search,
//      every page; case-insensitive) and an existing one is reused, else it is
//      created (POST /api/companies, multipart/form-data). Two with that name:
//      exit 2, pass --company-id.
//   2. with --map: GET /api/scim/fields resolves each Keepnet field name to its id.
//   3. POST /api/scim creates the SCIM integration in the company. A 409 (one with
//      that name exists) stops here with exit 2: Keepnet showed its token once,
//      so scimsync cannot recover it and never replaces it on its own.
//   4. the token file (0600) and then the config are written, each atomically
//      (a temp file renamed into place; without --force, never over a file).
//   5. with --dec: the DEC setting is created (a 409 leaves an existing one alone),
//      its test mail sent, and it is made default only if the test passed.
// Every request carries X-KEEPNET-Company-Id except the search and the company
// creation, which act in the reseller's own company.
//
// A failure prints the step, the HTTP status, Keepnet's message and
// validationMessages, and what this run already created.
//
// Exit codes (DESIGN §9): 0 done; 1 done, but the DEC test failed (the setting
// exists and is not default); 2 bad input or something the admin must do (400,
// 401 after a refresh, 403 not a Reseller credential, 404, 409); 3 Keepnet or the
// network failed (429, 5xx, no answer, a reply without token or baseUrl).
#pragma once

#include <string>
#include <vector>

#include "connectors/scim/http_client.h"
#include "core/clock.h"

namespace scimsync {

struct OnboardOptions {
  std::string credentials_file;  // empty: $CREDENTIALS_DIRECTORY/keepnet
  std::string api_url;           // default kKeepnetDefaultApi
  std::string company_id;
  std::string new_company_file;
  std::string scim_name = "scimsync";
  std::string group_id;                 // optional groupResourceId of the SCIM setting
  std::vector<std::string> field_maps;  // "KeepnetField=scimAttribute"
  std::string dec_file;
  std::string out;
  std::string source_file;
  bool force = false;
  bool systemd_credential = false;
};

inline constexpr std::size_t kMaxScimNameLength = 30;

// Runs the steps with `http` (tests pass a fake) and returns the exit code.
// Output lines go to `out` (stdout in the CLI).
int RunKeepnetOnboard(const OnboardOptions& options, HttpClient& http, Clock& clock, std::FILE* out);

// The CLI's entry: a CurlHttpClient, the system clock, stdout.
int KeepnetOnboard(const OnboardOptions& options);

}  // namespace scimsync
