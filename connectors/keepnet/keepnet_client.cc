#include "connectors/keepnet/keepnet_client.h"

#include <optional>
#include <utility>

#include "connectors/scim/scim_json.h"
#include "core/model.h"
#include "core/redact.h"

namespace scimsync {
namespace {

std::string PathOf(const std::string& url, const std::string& base) {
  std::string p = url.rfind(base, 0) == 0 ? url.substr(base.size()) : url;
  std::size_t q = p.find('?');
  return q == std::string::npos ? p : p.substr(0, q);
}

}  // namespace

std::string KeepnetReply::Summary() const {
  std::string out;
  if (error != HttpError::kNone) {
    out = "no answer: " + error_text;
  } else {
    out = "HTTP " + std::to_string(status);
    std::string text = EnvelopeText(envelope);
    if (!text.empty()) {
      out += ": " + text;
    } else if (!envelope.valid && status / 100 != 2) {
      out += " (" + envelope.error + ")";
    }
  }
  return Redact(out);
}

std::string TokenRequestBody(const KeepnetCredentials& c) {
  return "grant_type=client_credentials&client_id=" + PercentEncode(c.client_id, false) +
         "&client_secret=" + PercentEncode(c.client_secret, false) + "&scope=api1";
}

bool ParseKeepnetCredentials(std::string_view line, KeepnetCredentials* out, std::string* error) {
  std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    *error = "expected CLIENT_ID:CLIENT_SECRET on one line";
    return false;
  }
  out->client_id = std::string(Trim(line.substr(0, colon)));
  out->client_secret = std::string(Trim(line.substr(colon + 1)));
  if (out->client_id.empty() || out->client_secret.empty()) {
    *error = "expected CLIENT_ID:CLIENT_SECRET on one line (one of them is empty)";
    return false;
  }
  RegisterSecret(out->client_secret);
  return true;
}

std::vector<HttpFormPart> FormParts(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::vector<HttpFormPart> parts;
  parts.reserve(fields.size());
  for (const auto& [name, value] : fields) parts.push_back({name, value, "", ""});
  return parts;
}

KeepnetClient::KeepnetClient(HttpClient& http, Clock& clock, std::string api_url,
                             KeepnetCredentials credentials)
    : http_(http), clock_(clock), api_url_(std::move(api_url)), credentials_(std::move(credentials)) {
  while (!api_url_.empty() && api_url_.back() == '/') api_url_.pop_back();
  RegisterSecret(credentials_.client_secret);
}

KeepnetReply KeepnetClient::Send(const HttpRequest& request, std::string what) {
  HttpResponse r = http_.Send(request);
  KeepnetReply reply;
  reply.what = std::move(what);
  reply.error = r.error;
  reply.error_text = Redact(r.error_text);
  reply.status = r.status;
  if (r.error == HttpError::kNone) reply.envelope = ParseEnvelope(r.body);
  return reply;
}

std::optional<KeepnetReply> KeepnetClient::FetchToken(bool after_401) {
  HttpRequest req;
  req.method = "POST";
  req.url = JoinUrl(api_url_, "/connect/token");
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}};
  req.body = TokenRequestBody(credentials_);
  HttpResponse r = http_.Send(req);
  ++token_fetches_;
  TokenEvent ev;
  ev.after_401 = after_401;
  ev.reply.what = "POST /connect/token";
  ev.reply.error = r.error;
  ev.reply.error_text = Redact(r.error_text);
  ev.reply.status = r.status;
  TokenGrant grant;
  if (r.error == HttpError::kNone) {
    grant = ParseTokenResponse(r.body);
    if (!grant.access_token.empty()) RegisterSecret(grant.access_token);
    // The envelope's text, for Summary(): OAuth2's error and description.
    ev.reply.envelope.valid = true;
    ev.reply.envelope.message = grant.error;
    if (!grant.error_description.empty()) {
      ev.reply.envelope.validation_messages.push_back(grant.error_description);
    }
  }
  bool ok = r.error == HttpError::kNone && r.status / 100 == 2 && !grant.access_token.empty();
  if (ok) {
    ev.expires_in = grant.expires_in;
    token_.Set(grant.access_token, std::chrono::seconds(grant.expires_in), clock_.Steady());
  } else if (r.error == HttpError::kNone && r.status / 100 == 2) {
    ev.reply.status = r.status;
    ev.reply.envelope.message = "the token response holds no access_token";
  }
  ev.reply.token_failed = !ok;
  if (observer_) observer_(ev);
  if (!ok) return ev.reply;
  return std::nullopt;
}

KeepnetReply KeepnetClient::Call(HttpRequest request, const std::string& company_id) {
  std::string what = request.method + " " + PathOf(request.url, api_url_);
  if (!company_id.empty()) request.headers.emplace_back(kKeepnetCompanyHeader, company_id);
  request.headers.emplace_back("Accept", "application/json");
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool after_401 = attempt == 1;
    if (after_401 || token_.NeedsFetch(clock_.Steady())) {
      if (auto failed = FetchToken(after_401)) return *failed;
    }
    HttpRequest sent = request;
    sent.headers.emplace_back("Authorization", "Bearer " + token_.value());
    KeepnetReply reply = Send(sent, what);
    if (reply.error != HttpError::kNone || reply.status != 401 || attempt == 1) return reply;
    token_.Invalidate();  // refused: expired early, revoked, or the server restarted
  }
  return {};  // not reached
}

KeepnetReply KeepnetClient::Get(const std::string& path, const std::string& company_id) {
  HttpRequest req;
  req.method = "GET";
  req.url = JoinUrl(api_url_, path);
  return Call(std::move(req), company_id);
}

KeepnetReply KeepnetClient::PostJson(const std::string& path, const std::string& company_id,
                                     std::string json) {
  HttpRequest req;
  req.method = "POST";
  req.url = JoinUrl(api_url_, path);
  req.headers = {{"Content-Type", "application/json"}};
  req.body = std::move(json);
  return Call(std::move(req), company_id);
}

KeepnetReply KeepnetClient::PutJson(const std::string& path, const std::string& company_id,
                                    std::string json) {
  HttpRequest req;
  req.method = "PUT";
  req.url = JoinUrl(api_url_, path);
  if (!json.empty()) req.headers = {{"Content-Type", "application/json"}};
  req.body = std::move(json);
  return Call(std::move(req), company_id);
}

KeepnetReply KeepnetClient::PostForm(const std::string& path, const std::string& company_id,
                                     std::vector<HttpFormPart> form) {
  HttpRequest req;
  req.method = "POST";
  req.url = JoinUrl(api_url_, path);
  req.form = std::move(form);
  return Call(std::move(req), company_id);
}

}  // namespace scimsync
