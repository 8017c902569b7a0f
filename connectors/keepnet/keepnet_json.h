// Keepnet's REST API wire format: the response envelope and the few fields the
// onboarding reads out of `data`. Pure functions, no I/O; RapidJSON only in the .cc.
//
// Every Keepnet response body is an envelope
//   {"status": "...", "message": "..." | null, "validationMessages": [...] | null,
//    "data": ...}
// (doc.keepnetlabs.com, api-reference: each endpoint's 200 schema). The token
// endpoint (/connect/token) is plain OAuth2 (RFC 6749 §5.1/§5.2) instead.
//
// Tolerance, because the public pages leave some names open (docs/keepnet.md lists
// the assumptions):
//   * member names match case-insensitively (baseUrl, baseURL, BaseUrl);
//   * where a field has more than one plausible name, a table below lists them in
//     the order tried (the documented or assumed name first);
//   * `validationMessages` may hold strings or objects; an object is rendered from
//     its `message` (or `errorMessage`) member, prefixed with its `field` /
//     `propertyName` when present;
//   * numbers are read where strings are expected (some ids are numeric).
// A body that is empty, not JSON, not an object or nested deeper than
// kMaxKeepnetJsonDepth levels parses as an envelope with `valid` false and `error`
// saying why (never a piece of the body: it may echo what we sent).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scimsync {

inline constexpr int kMaxKeepnetJsonDepth = 64;

struct KeepnetEnvelope {
  bool valid = false;
  std::string error;  // why not valid
  std::string status;
  std::string message;
  std::vector<std::string> validation_messages;
  std::string data;  // the `data` member re-serialized as JSON ("" when absent or null)
};
KeepnetEnvelope ParseEnvelope(std::string_view body);

// True when the envelope's `status` reports a failure ("error", "fail", "failed",
// "failure", "unsuccessful", any case) although the HTTP status was 2xx.
bool EnvelopeSaysFailure(const KeepnetEnvelope& env);

// "<message>; <validation 1>; <validation 2>" (those present), or "". One line:
// control characters become spaces; each piece is cut to kMaxKeepnetMessageBytes
// (at a UTF-8 boundary, then "..."), and after kMaxKeepnetMessages validation
// messages the rest are counted ("; (3 more)").
inline constexpr std::size_t kMaxKeepnetMessageBytes = 300;
inline constexpr std::size_t kMaxKeepnetMessages = 10;
std::string EnvelopeText(const KeepnetEnvelope& env);

// POST /connect/token: {"access_token", "expires_in", "token_type"}; an error body
// {"error", "error_description"} (RFC 6749 §5.2) gives error/error_description.
struct TokenGrant {
  std::string access_token;
  long expires_in = 0;  // seconds; 0 when absent
  std::string error;    // "invalid_client", ... (failures only)
  std::string error_description;
};
TokenGrant ParseTokenResponse(std::string_view body);

// --- fields of `data` (the JSON text of KeepnetEnvelope::data) ----------------

// A resource id: data.resourceId (also companyResourceId, id), or data itself
// when it is a string or a number.
std::string DataResourceId(std::string_view data);

// One company of POST /api/companies/search.
struct CompanyItem {
  std::string resource_id;
  std::string name;
};
struct CompanyPage {
  bool valid = false;  // false: no list found in `data`
  std::vector<CompanyItem> items;
  std::optional<long> total_pages;  // totalNumberOfPages, when given
};
// The list is data.results (also items, data, companies), or data itself when it
// is an array. Elements that are not objects are skipped.
CompanyPage ParseCompanyPage(std::string_view data);

// The SCIM setting created by POST /api/scim: its id, the SCIM bearer token and
// the SCIM base URL (the documented names are token and baseUrl).
struct ScimSetting {
  std::string resource_id;
  std::string token;
  std::string base_url;
};
ScimSetting ParseScimSetting(std::string_view data);

// GET /api/scim/fields: each field's resourceId (or id) and name (or fieldName,
// displayName). data is the array, or data.results / data.items holds it.
struct ScimField {
  std::string resource_id;
  std::string name;
};
std::vector<ScimField> ParseScimFields(std::string_view data);

// The DEC test's verdict from a 2xx reply: false when data is `false` or an object
// whose isSuccess / success / isSent member is false; true otherwise.
bool DecTestPassed(std::string_view data);

// --- request bodies (JSON; exact text has unit tests) --------------------------

// POST /api/companies/search: one page, newest first (the documented body).
std::string CompanySearchJson(int page_number, int page_size);

// One SCIM field mapping: the Keepnet field (its resourceId from GET
// /api/scim/fields) fed from a SCIM attribute path.
struct ScimFieldMapping {
  std::string field_resource_id;
  std::string scim_attribute;
};
// POST /api/scim: {"name", "groupResourceId"?, "fieldMappings"?}; the optional
// members are left out when empty.
std::string ScimSettingJson(std::string_view name, std::string_view group_resource_id,
                            const std::vector<ScimFieldMapping>& mappings);

// POST /api/companies/direct-email-settings: {"name", "tenantId", "allowedDomains",
// "type"} (type 1 = Microsoft 365, 2 = Google Workspace).
std::string DecJson(std::string_view name, std::string_view tenant_id,
                    const std::vector<std::string>& domains, int type);
// POST /api/companies/direct-email-settings/test: {"resourceId", "sendTestEmailTo"}.
std::string DecTestJson(std::string_view resource_id, std::string_view address);

// The alternative member names tried for each field above, first to last.
struct FieldNames {
  std::string_view field;
  std::vector<std::string_view> names;
};
const std::vector<FieldNames>& KeepnetFieldNames();

}  // namespace scimsync
