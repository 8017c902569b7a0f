// The attribute values of one user, packed into one heap block.
//
// A million-user cycle holds two rows per user (source snapshot and loaded state), so
// the row layout sets the cycle's memory: nine std::string members cost 288 bytes plus
// a heap block per value over 15 characters. Here a row is one pointer (8 bytes); all
// values live in one block of kN end offsets followed by the concatenated bytes, and a
// row whose values are all empty holds no block at all.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

namespace scimsync {

// One block: n uint32 end offsets, then the n values' bytes; null if all are empty.
std::unique_ptr<char[]> PackValues(const std::string_view* vals, std::size_t n);

template <std::size_t kN>
class PackedValues {
 public:
  PackedValues() = default;
  PackedValues(const PackedValues& o) { CopyFrom(o); }
  PackedValues(PackedValues&&) noexcept = default;
  PackedValues& operator=(const PackedValues& o) {
    if (this != &o) CopyFrom(o);
    return *this;
  }
  PackedValues& operator=(PackedValues&&) noexcept = default;

  static constexpr std::size_t size() { return kN; }

  // Value i; empty means absent. Valid until the next Set or assignment. Const, so
  // that `values[i] = x` (which would assign to a temporary) does not compile: use Set.
  const std::string_view operator[](std::size_t i) const {
    if (!block_) return {};
    const std::uint32_t begin = i == 0 ? 0 : End(i - 1);
    return {Bytes() + begin, End(i) - begin};
  }

  void Set(std::size_t i, std::string_view v) {
    std::array<std::string_view, kN> vals;
    for (std::size_t k = 0; k < kN; ++k) vals[k] = k == i ? v : operator[](k);
    Assign(vals);  // reads the old block (v may point into it) before replacing it
  }

  // Replaces all values at once (one allocation): vals[i] becomes value i.
  void Assign(const std::array<std::string_view, kN>& vals) {
    block_ = PackValues(vals.data(), kN);
  }

  friend bool operator==(const PackedValues& a, const PackedValues& b) {
    const std::size_t n = a.Total();
    if (n != b.Total()) return false;
    if (n == 0) return true;
    return std::memcmp(a.block_.get(), b.block_.get(), kHeader + n) == 0;
  }

  // Iterates the values in order, as string_views.
  class const_iterator {
   public:
    const_iterator(const PackedValues* v, std::size_t i) : v_(v), i_(i) {}
    const std::string_view operator*() const { return (*v_)[i_]; }
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
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, kN}; }

 private:
  static constexpr std::size_t kHeader = kN * sizeof(std::uint32_t);

  std::uint32_t End(std::size_t i) const {
    std::uint32_t e;
    std::memcpy(&e, block_.get() + i * sizeof(std::uint32_t), sizeof(e));
    return e;
  }
  const char* Bytes() const { return block_.get() + kHeader; }
  std::size_t Total() const { return block_ ? End(kN - 1) : 0; }
  void CopyFrom(const PackedValues& o) {
    const std::size_t n = o.Total();
    if (n == 0) {
      block_.reset();
      return;
    }
    block_.reset(new char[kHeader + n]);
    std::memcpy(block_.get(), o.block_.get(), kHeader + n);
  }

  std::unique_ptr<char[]> block_;  // null: every value empty
};

}  // namespace scimsync
