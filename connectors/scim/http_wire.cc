#include "connectors/scim/http_wire.h"

#include <algorithm>

#include "core/text.h"

namespace scimsync {
namespace {

constexpr std::size_t kMaxChunkLine = 1024;  // chunk size plus extensions

bool IsCtl(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

// RFC 9110 §5.6.2 token characters.
bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return false;
    if (std::string_view("\"(),/:;<=>?@[\\]{}").find(c) != std::string_view::npos) return false;
  }
  return true;
}

// A field value may hold visible characters, spaces and tabs (and obs-text).
bool IsFieldValue(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) { return c != '\t' && IsCtl(c); });
}

// Calls fn(token) for each comma-separated, trimmed, non-empty element of a list.
template <typename Fn>
void ForEachListItem(std::string_view v, Fn&& fn) {
  while (!v.empty()) {
    std::size_t comma = v.find(',');
    std::string_view item = TrimOws(v.substr(0, comma));
    if (!item.empty()) fn(item);
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
}

}  // namespace

bool SplitUrl(std::string_view url, UrlParts* parts, std::string* error) {
  std::size_t sep = url.find("://");
  std::string scheme = sep == std::string_view::npos ? "" : FoldCase(url.substr(0, sep));
  if (scheme != "http" && scheme != "https") {
    *error = "not an http or https URL";
    return false;
  }
  std::string_view rest = url.substr(sep + 3);
  std::size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  if (authority.empty()) {
    *error = "the URL has no host";
    return false;
  }
  if (authority.find('@') != std::string_view::npos) {
    *error = "user:password@ in the URL is not supported (the token file carries the credential)";
    return false;
  }
  rest = rest.substr(0, rest.find('#'));
  auto bad = [](char c) { return c == ' ' || IsCtl(c); };
  if (std::any_of(authority.begin(), authority.end(), bad) ||
      std::any_of(rest.begin(), rest.end(), bad)) {
    *error = "the URL holds a space or a control character";
    return false;
  }
  parts->https = scheme == "https";
  parts->authority = FoldCase(authority);
  parts->origin = scheme + "://" + parts->authority;
  parts->target = rest.empty() || rest.front() == '?' ? "/" + std::string(rest) : std::string(rest);
  return true;
}

bool SerializeRequest(const HttpRequest& request, const UrlParts& url, std::string_view user_agent,
                      std::string_view bearer_token, std::string* out, std::string* error) {
  if (!IsToken(request.method)) {
    *error = "invalid HTTP method";
    return false;
  }
  if (!IsFieldValue(user_agent) || !IsFieldValue(bearer_token)) {
    *error = user_agent.empty() || IsFieldValue(user_agent)
                 ? "the bearer token holds a control character"
                 : "the user agent holds a control character";
    return false;
  }
  for (const auto& [name, value] : request.headers) {
    if (!IsToken(name) || !IsFieldValue(value)) {
      *error = "header " + (IsToken(name) ? name : std::string("(invalid name)")) +
               " holds a control character or an invalid name";
      return false;
    }
  }
  std::string& o = *out;
  o.clear();
  o.reserve(160 + url.target.size() + bearer_token.size() + request.body.size() +
            48 * request.headers.size());
  o.append(request.method).append(" ").append(url.target).append(" HTTP/1.1\r\nHost: ");
  o.append(url.authority).append("\r\n");
  if (!user_agent.empty()) o.append("User-Agent: ").append(user_agent).append("\r\n");
  if (!bearer_token.empty()) o.append("Authorization: Bearer ").append(bearer_token).append("\r\n");
  for (const auto& [name, value] : request.headers) {
    o.append(name).append(": ").append(value).append("\r\n");
  }
  const std::string& m = request.method;
  if (!request.body.empty() || m == "POST" || m == "PUT" || m == "PATCH") {
    o.append("Content-Length: ").append(std::to_string(request.body.size())).append("\r\n");
  }
  o.append("\r\n").append(request.body);
  return true;
}

HttpResponseParser::State HttpResponseParser::Fail(std::string why) {
  state_ = State::kError;
  keep_alive_ = false;
  error_ = std::move(why);
  return state_;
}

HttpResponseParser::State HttpResponseParser::Complete() {
  phase_ = Phase::kDone;
  state_ = State::kDone;
  return state_;
}

HttpResponseParser::State HttpResponseParser::Feed(std::string_view data) {
  if (state_ == State::kDone && !data.empty()) keep_alive_ = false;  // more than one response
  if (state_ != State::kMore) return state_;
  if (!data.empty()) started_ = true;
  while (!data.empty() && state_ == State::kMore) {
    switch (phase_) {
      case Phase::kBody:
      case Phase::kChunkData: {
        std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(data.size(), length_));
        if (AppendBody(data.substr(0, n)) != State::kMore) return state_;
        data.remove_prefix(n);
        length_ -= n;
        if (length_ == 0) {
          if (phase_ == Phase::kBody) {
            Complete();
            if (!data.empty()) keep_alive_ = false;  // bytes past the response
            return state_;
          }
          phase_ = Phase::kChunkDataEnd;
        }
        break;
      }
      case Phase::kUntilClose:
        if (AppendBody(data) != State::kMore) return state_;
        data = {};
        break;
      case Phase::kDone:
        return state_;
      default: {  // a line: status, header, chunk size, chunk end, trailer
        const bool header_phase = phase_ == Phase::kStatus || phase_ == Phase::kHeaders ||
                                  phase_ == Phase::kTrailers;
        std::size_t nl = data.find('\n');
        std::string_view take = data.substr(0, nl == std::string_view::npos ? data.size() : nl + 1);
        if (header_phase) {
          header_bytes_ += take.size();
          if (header_bytes_ > limit_) {
            too_large_ = true;
            return Fail("response headers larger than the limit");
          }
        } else if (line_.size() + take.size() > kMaxChunkLine) {
          return Fail("malformed chunked body: chunk size line too long");
        }
        data.remove_prefix(take.size());
        if (nl == std::string_view::npos) {
          line_.append(take);
          break;
        }
        std::string_view line = take;
        if (!line_.empty()) {
          line_.append(take);
          line = line_;
        }
        line.remove_suffix(1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        State s = Line(line);
        line_.clear();
        if (s != State::kMore) {
          if (s == State::kDone && !data.empty()) keep_alive_ = false;
          return s;
        }
        break;
      }
    }
  }
  return state_;
}

HttpResponseParser::State HttpResponseParser::Line(std::string_view line) {
  switch (phase_) {
    case Phase::kStatus: {
      // "HTTP/1.1 200 OK", "HTTP/1.0 404" (the reason may be absent).
      if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." ||
          (line[7] != '0' && line[7] != '1') || line[8] != ' ' ||
          !std::all_of(line.begin() + 9, line.begin() + 12,
                       [](char c) { return c >= '0' && c <= '9'; }) ||
          (line.size() > 12 && line[12] != ' ')) {
        return Fail("malformed status line");
      }
      http10_ = line[7] == '0';
      response_.status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
      if (response_.status < 100) return Fail("malformed status line");
      response_.headers.clear();
      phase_ = Phase::kHeaders;
      return state_;
    }
    case Phase::kHeaders: {
      if (line.empty()) {
        if (response_.status >= 200) return StartBody();
        if (response_.status == 101) return Fail("unexpected 101 Switching Protocols");
        // An interim response: its fields are dropped, the final one follows.
        phase_ = Phase::kStatus;
        return state_;
      }
      if (line.front() == ' ' || line.front() == '\t') {  // obs-fold (RFC 9112 §5.2)
        if (response_.headers.empty()) return Fail("malformed header: folded first line");
        std::string_view more = TrimOws(line);
        if (!IsFieldValue(more)) return Fail("malformed header: control character");
        std::string& value = response_.headers.back().second;
        value.append(value.empty() ? "" : " ").append(more);
        return state_;
      }
      std::size_t colon = line.find(':');
      if (colon == std::string_view::npos || !IsToken(line.substr(0, colon))) {
        return Fail("malformed header line");
      }
      std::string_view value = TrimOws(line.substr(colon + 1));
      if (!IsFieldValue(value)) return Fail("malformed header: control character");
      std::string name = FoldCase(line.substr(0, colon));
      response_.headers.emplace_back(std::move(name), std::string(value));
      return state_;
    }
    case Phase::kChunkSize: {
      std::string_view size = TrimOws(line.substr(0, line.find(';')));
      if (size.empty() || size.size() > 15 ||
          !std::all_of(size.begin(), size.end(), [](char c) {
            return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
          })) {
        return Fail("malformed chunked body: bad chunk size");
      }
      length_ = std::stoull(std::string(size), nullptr, 16);
      if (length_ == 0) {
        phase_ = Phase::kTrailers;
      } else if (length_ > limit_ - std::min(limit_, response_.body.size())) {
        too_large_ = true;
        return Fail("response body larger than the limit");
      } else {
        phase_ = Phase::kChunkData;
      }
      return state_;
    }
    case Phase::kChunkDataEnd:
      if (!line.empty()) return Fail("malformed chunked body: chunk not followed by CRLF");
      phase_ = Phase::kChunkSize;
      return state_;
    case Phase::kTrailers:
      if (line.empty()) return Complete();
      return state_;  // trailer fields are read and dropped
    default:
      return Fail("internal: a line in a body phase");
  }
}

HttpResponseParser::State HttpResponseParser::Framing() {
  // Read once the header block is whole, so a folded line counts like any other.
  bool close_seen = false, keep_alive_seen = false, ok = true;
  for (const auto& [name, value] : response_.headers) {
    if (name == "content-length") {
      ForEachListItem(value, [&](std::string_view item) {
        if (!ok) return;
        if (item.size() > 18 || !AllDigits(item)) {
          ok = false;
          return;
        }
        std::uint64_t n = std::stoull(std::string(item));
        if (has_length_ && n != length_) ok = false;
        has_length_ = true;
        length_ = n;
      });
      if (!ok || !has_length_) return Fail("malformed or conflicting Content-Length");
    } else if (name == "transfer-encoding") {
      ForEachListItem(value, [&](std::string_view item) {
        if (EqualsIgnoreCase(item, "chunked")) {
          if (chunked_) ok = false;  // chunked applied twice
          chunked_ = true;
        } else if (!EqualsIgnoreCase(item, "identity") || chunked_) {
          ok = false;  // a coding we never asked for (no Accept-Encoding is sent)
        }
      });
      if (!ok) return Fail("unsupported Transfer-Encoding");
    } else if (name == "connection") {
      ForEachListItem(value, [&](std::string_view item) {
        if (EqualsIgnoreCase(item, "close")) close_seen = true;
        if (EqualsIgnoreCase(item, "keep-alive")) keep_alive_seen = true;
      });
    }
  }
  keep_alive_ = http10_ ? keep_alive_seen : !close_seen;
  // Both Content-Length and chunked (RFC 9112 §6.3: chunked wins), or a body
  // announced where none may be: the framing is in doubt, the connection is not reused.
  if (chunked_ && has_length_) keep_alive_ = false;
  return state_;
}

HttpResponseParser::State HttpResponseParser::StartBody() {
  if (Framing() != State::kMore) return state_;
  const int s = response_.status;
  if (s == 204 || s == 304) {
    if (chunked_ || (has_length_ && length_ > 0)) keep_alive_ = false;
    return Complete();
  }
  if (chunked_) {
    phase_ = Phase::kChunkSize;
    return state_;
  }
  if (has_length_) {
    if (length_ > limit_) {
      too_large_ = true;
      return Fail("response body larger than the limit");
    }
    if (length_ == 0) return Complete();
    response_.body.reserve(static_cast<std::size_t>(length_));
    phase_ = Phase::kBody;
    return state_;
  }
  keep_alive_ = false;  // the body ends when the connection does
  phase_ = Phase::kUntilClose;
  return state_;
}

HttpResponseParser::State HttpResponseParser::AppendBody(std::string_view data) {
  if (data.size() > limit_ - std::min(limit_, response_.body.size())) {
    too_large_ = true;
    return Fail("response body larger than the limit");
  }
  response_.body.append(data);
  return state_;
}

HttpResponseParser::State HttpResponseParser::Eof() {
  if (state_ != State::kMore) return state_;
  if (phase_ == Phase::kUntilClose) return Complete();
  return Fail(started_ ? "connection closed before the response was complete"
                       : "connection closed before any response");
}

}  // namespace scimsync
