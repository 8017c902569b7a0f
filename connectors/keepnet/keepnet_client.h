// KeepnetClient: Keepnet Labs' reseller REST API over our HttpClient
// (docs/keepnet.md; reference: doc.keepnetlabs.com api-reference).
//
// Contract:
//   * Token: OAuth2 client credentials. POST <api>/connect/token, form-encoded
//     grant_type=client_credentials, client_id, client_secret, scope=api1. The
//     token is fetched before the first call and again when KeepnetToken says it
//     is about to expire (keepnet_token.h). A 401 on an API call invalidates it:
//     the call is retried once with a fresh token; a second 401 is returned.
//   * Every API call carries Authorization: Bearer <token> and, when a company id
//     is given, X-KEEPNET-Company-Id: <id> (the reseller acting inside that
//     customer). The header is the only scoping: a call without it acts in the
//     reseller's own company.
//   * Bodies: JSON (Content-Type: application/json, never json-patch+json, which
//     Keepnet answers 400 "Invalid request"), or multipart/form-data from
//     HttpRequest::form (libcurl's MIME API in CurlHttpClient).
//   * Replies: the HTTP outcome plus the parsed envelope (keepnet_json.h). A reply
//     is ok() when a response arrived, its status is 2xx, and the envelope (if
//     any) does not say it failed.
//   * Secrets: the client secret and every access token are registered with
//     core/redact.h when first seen; nothing the client returns holds them.
//   * The observer (if set) hears about every token fetch, for the command's
//     one-line-per-request output.
// Not thread-safe: one onboarding runs its calls one after another.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "connectors/keepnet/keepnet_json.h"
#include "connectors/keepnet/keepnet_token.h"
#include "connectors/scim/http_client.h"
#include "core/clock.h"

namespace scimsync {

inline constexpr std::string_view kKeepnetDefaultApi = "https://api.keepnetlabs.com";
inline constexpr std::string_view kKeepnetCompanyHeader = "X-KEEPNET-Company-Id";

struct KeepnetCredentials {
  std::string client_id;
  std::string client_secret;
};

struct KeepnetReply {
  std::string what;  // "POST /api/scim": method and path, never a query or a secret
  HttpError error = HttpError::kNone;
  std::string error_text;
  int status = 0;
  KeepnetEnvelope envelope;
  bool token_failed = false;  // the token fetch failed; status/envelope are its reply

  bool ok() const {
    return error == HttpError::kNone && status >= 200 && status < 300 &&
           !EnvelopeSaysFailure(envelope);
  }
  // "HTTP 400: <message>; <validation messages>" or "connection failed: <why>",
  // passed through Redact().
  std::string Summary() const;
};

// The form-encoded body of the token request (RFC 6749 §4.4.2, values
// percent-encoded).
std::string TokenRequestBody(const KeepnetCredentials& credentials);

// Parses a credentials file's contents: "CLIENT_ID:CLIENT_SECRET" on one line (the
// first ':' splits them). Registers the secret for redaction.
bool ParseKeepnetCredentials(std::string_view line, KeepnetCredentials* out, std::string* error);

// Ordered name/value fields -> form parts, one part per field, in order.
std::vector<HttpFormPart> FormParts(const std::vector<std::pair<std::string, std::string>>& fields);

class KeepnetClient {
 public:
  struct TokenEvent {
    KeepnetReply reply;        // the token request's outcome
    long expires_in = 0;       // seconds, when it succeeded
    bool after_401 = false;    // fetched because an API call was refused
  };
  using Observer = std::function<void(const TokenEvent&)>;

  KeepnetClient(HttpClient& http, Clock& clock, std::string api_url, KeepnetCredentials credentials);

  void SetObserver(Observer observer) { observer_ = std::move(observer); }

  // `path` starts with "/api/"; `company_id` empty: no scoping header.
  KeepnetReply Get(const std::string& path, const std::string& company_id);
  KeepnetReply PostJson(const std::string& path, const std::string& company_id, std::string json);
  // An empty `json` sends no body and no Content-Type.
  KeepnetReply PutJson(const std::string& path, const std::string& company_id, std::string json);
  KeepnetReply PostForm(const std::string& path, const std::string& company_id,
                        std::vector<HttpFormPart> form);

  int token_fetches() const { return token_fetches_; }

 private:
  KeepnetReply Call(HttpRequest request, const std::string& company_id);
  // Fetches a token; on failure the reply says why (token_failed set).
  std::optional<KeepnetReply> FetchToken(bool after_401);
  KeepnetReply Send(const HttpRequest& request, std::string what);

  HttpClient& http_;
  Clock& clock_;
  std::string api_url_;
  KeepnetCredentials credentials_;
  KeepnetToken token_;
  Observer observer_;
  int token_fetches_ = 0;
};

}  // namespace scimsync
