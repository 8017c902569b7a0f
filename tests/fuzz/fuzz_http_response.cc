// libFuzzer target: HttpResponseParser (connectors/scim/http_wire.h), which reads
// whatever bytes a target (or anything between) sends back on a direct transfer.
// The first byte picks a split point and the second an EOF; the rest is the stream.
// Properties:
//   * the parse does not depend on how the bytes arrive: fed whole and fed in two
//     pieces split anywhere, the state, status, headers, body and keep-alive agree;
//   * the body never exceeds the limit, and too_large() is the only way past it;
//   * the error text is one of ours: one line, short, never the server's bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "connectors/scim/http_wire.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

constexpr std::size_t kLimit = 512;

struct Outcome {
  scimsync::HttpResponseParser::State state;
  int status;
  std::string body;
  std::size_t headers;
  bool keep_alive;
  bool too_large;
};

Outcome Run(std::string_view bytes, std::size_t split, bool eof) {
  scimsync::HttpResponseParser p(kLimit);
  p.Feed(bytes.substr(0, split));
  p.Feed(bytes.substr(split));
  if (eof) p.Eof();
  const std::string& error = p.error();
  FUZZ_CHECK(error.size() <= 80);
  FUZZ_CHECK(error.find_first_of("\r\n\t") == std::string::npos);
  FUZZ_CHECK(p.response().body.size() <= kLimit);
  FUZZ_CHECK((p.state() == scimsync::HttpResponseParser::State::kError) == !error.empty());
  return {p.state(), p.response().status, p.response().body, p.response().headers.size(),
          p.keep_alive(), p.too_large()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 2, size - 2);
  const std::size_t split = bytes.empty() ? 0 : data[0] % (bytes.size() + 1);
  const bool eof = (data[1] & 1) != 0;
  Outcome whole = Run(bytes, bytes.size(), eof);
  Outcome parts = Run(bytes, split, eof);
  FUZZ_CHECK(whole.state == parts.state);
  FUZZ_CHECK(whole.too_large == parts.too_large);
  if (whole.state == scimsync::HttpResponseParser::State::kDone) {
    FUZZ_CHECK(whole.status == parts.status);
    FUZZ_CHECK(whole.body == parts.body);
    FUZZ_CHECK(whole.headers == parts.headers);
    FUZZ_CHECK(whole.keep_alive == parts.keep_alive);
    FUZZ_CHECK(whole.status >= 200 && whole.status <= 999);
  }
  return 0;
}
