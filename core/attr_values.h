// The attribute values of one user, packed into one shared, immutable heap block.
//
// A million-user cycle holds two rows per user (source snapshot and loaded state), so
// the row layout sets the cycle's memory: nine std::string members cost 288 bytes plus
// a heap block per value over 15 characters. Here a row is one pointer (8 bytes) to a
// block of a reference count, kN end offsets and the concatenated bytes; a row whose
// values are all empty holds no block at all. Blocks never change once built: a copy
// shares its source's block (StateStore::Load hands an unchanged user's state row the
// source row's block, so an unchanged user's values are stored once), and Set or
// Assign builds a new block for this row alone (copy on write). The count is atomic,
// so rows sharing a block may live on different threads.
//
// Reading, safely:
//   values[i]        an owned std::string: keep it anywhere.
//   values.View(i)   a string_view without a copy, valid while this row lives and
//                    until its next Set, Assign or assignment. Only on an lvalue row:
//                    View on a temporary does not compile.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

// Lets clang see a view that outlives the row it came from (-Wdangling).
#if defined(__has_cpp_attribute)
#if __has_cpp_attribute(clang::lifetimebound)
#define SCIMSYNC_LIFETIMEBOUND [[clang::lifetimebound]]
#endif
#endif
#ifndef SCIMSYNC_LIFETIMEBOUND
#define SCIMSYNC_LIFETIMEBOUND
#endif

namespace scimsync {
namespace attr_values_internal {

// A block: the reference count, then n uint32 end offsets, then the n values' bytes.
struct BlockHead {
  std::atomic<std::uint32_t> refs;
};
inline constexpr std::size_t kHeadSize = sizeof(std::uint32_t);
static_assert(sizeof(BlockHead) == kHeadSize);

// A new block holding vals[0..n) with one reference; null if every value is empty.
char* Pack(const std::string_view* vals, std::size_t n);
// Drops the block (not null) once its last reference is released.
void Free(char* block);

}  // namespace attr_values_internal

template <std::size_t kN>
class PackedValues {
 public:
  PackedValues() = default;
  PackedValues(const PackedValues& o) noexcept : block_(o.block_) { Retain(block_); }
  PackedValues(PackedValues&& o) noexcept : block_(o.block_) { o.block_ = nullptr; }
  PackedValues& operator=(const PackedValues& o) noexcept {
    Retain(o.block_);  // first: o may be this row
    Release(block_);
    block_ = o.block_;
    return *this;
  }
  PackedValues& operator=(PackedValues&& o) noexcept {
    if (this != &o) {
      Release(block_);
      block_ = o.block_;
      o.block_ = nullptr;
    }
    return *this;
  }
  ~PackedValues() { Release(block_); }

  static constexpr std::size_t size() { return kN; }

  // Value i (empty means absent), as an owned copy. Const, so that `values[i] = x`
  // (which would assign to a temporary) does not compile: use Set.
  const std::string operator[](std::size_t i) const { return std::string(View(i)); }

  // Value i without a copy; see the header comment for how long it stays valid.
  std::string_view View(std::size_t i) const& SCIMSYNC_LIFETIMEBOUND {
    if (!block_) return {};
    const std::uint32_t begin = i == 0 ? 0 : End(i - 1);
    return {Bytes() + begin, End(i) - begin};
  }
  std::string_view View(std::size_t i) const&& = delete;  // would dangle

  void Set(std::size_t i, std::string_view v) {
    std::array<std::string_view, kN> vals;
    for (std::size_t k = 0; k < kN; ++k) vals[k] = k == i ? v : View(k);
    Assign(vals);  // reads the old block (v may point into it) before releasing it
  }

  // Replaces all values at once (one allocation): vals[i] becomes value i.
  void Assign(const std::array<std::string_view, kN>& vals) {
    char* next = attr_values_internal::Pack(vals.data(), kN);
    Release(block_);
    block_ = next;
  }

  // True if both rows hold the same block (equal values, stored once).
  bool SharesStorageWith(const PackedValues& o) const { return block_ && block_ == o.block_; }

  friend bool operator==(const PackedValues& a, const PackedValues& b) {
    if (a.block_ == b.block_) return true;
    const std::size_t n = a.Total();
    if (n != b.Total()) return false;
    if (n == 0) return true;
    const std::size_t skip = attr_values_internal::kHeadSize;  // the counts may differ
    return std::memcmp(a.block_ + skip, b.block_ + skip, kEnds + n) == 0;
  }

  // Iterates the values in order, as string_views (valid as View's).
  class const_iterator {
   public:
    const_iterator(const PackedValues* v, std::size_t i) : v_(v), i_(i) {}
    std::string_view operator*() const { return v_->View(i_); }
    const_iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator!=(const const_iterator& o) const { return i_ != o.i_; }
    bool operator==(const const_iterator& o) const { return i_ == o.i_; }

   private:
    const PackedValues* v_;
    std::size_t i_;
  };
  const_iterator begin() const& SCIMSYNC_LIFETIMEBOUND { return {this, 0}; }
  const_iterator end() const& SCIMSYNC_LIFETIMEBOUND { return {this, kN}; }
  const_iterator begin() const&& = delete;
  const_iterator end() const&& = delete;

 private:
  static constexpr std::size_t kEnds = kN * sizeof(std::uint32_t);

  static void Retain(char* b) {
    if (b) reinterpret_cast<attr_values_internal::BlockHead*>(b)->refs.fetch_add(
        1, std::memory_order_relaxed);
  }
  static void Release(char* b) {
    if (b && reinterpret_cast<attr_values_internal::BlockHead*>(b)->refs.fetch_sub(
                 1, std::memory_order_acq_rel) == 1) {
      attr_values_internal::Free(b);
    }
  }
  std::uint32_t End(std::size_t i) const {
    std::uint32_t e;
    std::memcpy(&e, block_ + attr_values_internal::kHeadSize + i * sizeof(std::uint32_t),
                sizeof(e));
    return e;
  }
  const char* Bytes() const { return block_ + attr_values_internal::kHeadSize + kEnds; }
  std::size_t Total() const { return block_ ? End(kN - 1) : 0; }

  char* block_ = nullptr;  // null: every value empty
};

}  // namespace scimsync
