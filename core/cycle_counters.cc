#include "core/cycle_counters.h"

namespace scimsync {
namespace {

constexpr bool CountersInOrder() {
  for (std::size_t i = 0; i < kCounters.size(); ++i) {
    if (static_cast<std::size_t>(kCounters[i].counter) != i) return false;
    if (kCounters[i].name.empty() || kCounters[i].metric.empty()) return false;
    if (kCounters[i].metric_scale < 1) return false;
  }
  return true;
}
static_assert(CountersInOrder(),
              "kCounters must follow the order of Counter, each row with a name and a metric");

}  // namespace

CycleCounts::CycleCounts() {
  for (const CounterInfo& c : kCounters) {
    (*this)[c.counter] = c.kind == CounterKind::kGauge ? kUnmeasured : 0;
  }
}

bool Measured(Counter c, const CycleCounts& counts) {
  return Info(c).kind == CounterKind::kEvent || counts[c] != kUnmeasured;
}

CycleCounts PlannedCounts(const PlanSummary& summary, CycleCounts base) {
  for (const CounterInfo& c : kCounters) {
    if (c.planned != nullptr) base[c.counter] = summary.*c.planned;
  }
  return base;
}

LogFields CounterLogFields(const CycleCounts& counts) {
  LogFields f;
  f.reserve(kCounterCount);
  for (const CounterInfo& c : kCounters) {
    if (Measured(c.counter, counts)) f.emplace_back(std::string(c.name), counts[c.counter]);
  }
  return f;
}

}  // namespace scimsync
