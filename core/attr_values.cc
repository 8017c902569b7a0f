#include "core/attr_values.h"

#include <cstring>
#include <new>

namespace scimsync::attr_values_internal {

char* Pack(const std::string_view* vals, std::size_t n) {
  std::size_t total = 0;
  for (std::size_t k = 0; k < n; ++k) total += vals[k].size();
  if (total == 0) return nullptr;
  const std::size_t ends = n * sizeof(std::uint32_t);
  // operator new's alignment suits the atomic count at offset 0.
  auto* block = static_cast<char*>(::operator new(kHeadSize + ends + total));
  new (block) BlockHead{1};
  std::uint32_t at = 0;
  for (std::size_t k = 0; k < n; ++k) {
    if (!vals[k].empty()) {
      std::memcpy(block + kHeadSize + ends + at, vals[k].data(), vals[k].size());
    }
    at += static_cast<std::uint32_t>(vals[k].size());
    std::memcpy(block + kHeadSize + k * sizeof(std::uint32_t), &at, sizeof(at));
  }
  return block;
}

void Free(char* block) {
  reinterpret_cast<BlockHead*>(block)->~BlockHead();
  ::operator delete(block);
}

}  // namespace scimsync::attr_values_internal
