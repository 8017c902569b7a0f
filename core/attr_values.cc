#include "core/attr_values.h"

#include <cstring>

namespace scimsync {

std::unique_ptr<char[]> PackValues(const std::string_view* vals, std::size_t n) {
  std::size_t total = 0;
  for (std::size_t k = 0; k < n; ++k) total += vals[k].size();
  if (total == 0) return nullptr;
  const std::size_t header = n * sizeof(std::uint32_t);
  std::unique_ptr<char[]> block(new char[header + total]);
  std::uint32_t at = 0;
  for (std::size_t k = 0; k < n; ++k) {
    if (!vals[k].empty()) std::memcpy(block.get() + header + at, vals[k].data(), vals[k].size());
    at += static_cast<std::uint32_t>(vals[k].size());
    std::memcpy(block.get() + k * sizeof(std::uint32_t), &at, sizeof(at));
  }
  return block;
}

}  // namespace scimsync
