#include "daemon/status_report.h"
#include "core/text.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdio>
#include <ctime>

namespace scimsync {
namespace {

// "" for an unset time.
std::string IsoTime(SysTime t) { return t == SysTime{} ? "" : IsoUtc(t); }

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// "users created 3, updated 2; groups created 1; failed 1, requests 12": the
// non-zero events with a verb, in table order, sharing their noun.
std::string CountsText(const CycleCounts& counts) {
  std::string out;
  std::optional<std::string_view> noun;
  for (const CounterInfo& c : kCounters) {
    if (c.kind != CounterKind::kEvent || c.verb.empty() || counts[c.counter] == 0) continue;
    if (noun && *noun == c.noun) {
      out += ", ";
    } else {
      if (noun) out += "; ";
      if (!c.noun.empty()) {
        out += c.noun;
        out += ' ';
      }
      noun = c.noun;
    }
    out += c.verb;
    out += ' ' + std::to_string(counts[c.counter]);
  }
  return out.empty() ? "no changes" : out;
}

// "unmanaged users: 3" lines, and which cycle measured them.
std::string GaugesText(const std::optional<CycleRecord>& measured) {
  std::string out;
  for (const CounterInfo& c : kCounters) {
    if (c.kind != CounterKind::kGauge) continue;
    out += std::string(c.noun) + " " + std::string(c.verb) + ": ";
    out += measured && Measured(c.counter, measured->counts)
               ? std::to_string(measured->counts[c.counter])
               : "unknown";
    out += "\n";
  }
  if (out.empty()) return out;
  if (measured) {
    out += "  as of the reconciling read of cycle #" + std::to_string(measured->id) + " (" +
           IsoTime(measured->ended) + ")\n";
  } else {
    out += "  no cycle has read the whole target yet\n";
  }
  return out;
}

void WriteCounters(JsonWriter& w, const CycleCounts& counts) {
  for (const CounterInfo& c : kCounters) {
    w.Key(c.name.data(), static_cast<rapidjson::SizeType>(c.name.size()));
    if (Measured(c.counter, counts)) {
      w.Int64(counts[c.counter]);
    } else {
      w.Null();
    }
  }
}

void WriteCycleJson(JsonWriter& w, const CycleRecord& c) {
  w.StartObject();
  w.Key("id");
  w.Int64(c.id);
  w.Key("started");
  w.String(IsoTime(c.started).c_str());
  w.Key("ended");
  w.String(IsoTime(c.ended).c_str());
  w.Key("result");
  w.String(c.result.c_str());
  w.Key("reason");
  w.String(c.reason.c_str());
  WriteCounters(w, c.counts);
  w.EndObject();
}

// The gauges of the newest cycle that measured them.
void WriteLastReconcile(JsonWriter& w, const std::optional<CycleRecord>& measured) {
  if (!measured) {
    w.Null();
    return;
  }
  w.StartObject();
  w.Key("cycle");
  w.Int64(measured->id);
  w.Key("ended");
  w.String(IsoTime(measured->ended).c_str());
  for (const CounterInfo& c : kCounters) {
    if (c.kind != CounterKind::kGauge) continue;
    w.Key(c.name.data(), static_cast<rapidjson::SizeType>(c.name.size()));
    if (Measured(c.counter, measured->counts)) {
      w.Int64(measured->counts[c.counter]);
    } else {
      w.Null();
    }
  }
  w.EndObject();
}

}  // namespace

std::string StatusJson(const StatusData& d) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("state");
  w.String(d.state_path.c_str());
  w.Key("target");
  w.String(d.target_url.c_str());
  w.Key("daemon");
  w.StartObject();
  w.Key("running");
  w.Bool(d.daemon_running);
  w.Key("pid");
  if (d.daemon_running) w.Int64(d.daemon_pid); else w.Null();
  w.Key("next_cycle");
  if (d.daemon_running && !d.next_cycle.empty()) w.String(d.next_cycle.c_str()); else w.Null();
  w.EndObject();
  w.Key("cycles");
  w.StartArray();
  for (const auto& c : d.cycles) WriteCycleJson(w, c);
  w.EndArray();
  w.Key("last_reconcile");
  WriteLastReconcile(w, d.last_measured);
  w.Key("unmanaged");
  if (d.unmanaged_json.empty()) {
    w.Null();
  } else {
    w.RawValue(d.unmanaged_json.data(), d.unmanaged_json.size(), rapidjson::kObjectType);
  }
  w.Key("attention");
  w.StartArray();
  for (const auto& a : d.attention) {
    w.StartObject();
    w.Key("kind"); w.String(a.kind.c_str());
    w.Key("key"); w.String(a.key.c_str());
    w.Key("label"); w.String(a.label.c_str());
    w.Key("status"); w.String(a.status.c_str());
    w.Key("last_error"); w.String(a.last_error.c_str());
    w.Key("attempts"); w.Int(a.attempts);
    w.Key("next_retry");
    if (a.next_retry == SysTime{}) w.Null(); else w.String(IsoTime(a.next_retry).c_str());
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

std::string StatusText(const StatusData& d) {
  std::string out;
  char line[512];
  out += "state:  " + d.state_path + "\n";
  out += "target: " + d.target_url + "\n";
  if (d.daemon_running) {
    out += "daemon: running (pid " + std::to_string(d.daemon_pid) + ")";
    if (!d.next_cycle.empty()) out += ", next cycle at " + d.next_cycle;
    out += "\n";
  } else {
    out += "daemon: not running\n";
  }
  out += "\nlast cycles:\n";
  if (d.cycles.empty()) out += "  (none yet)\n";
  for (const auto& c : d.cycles) {
    std::snprintf(line, sizeof line, "  #%-5lld %s  %-11s %7.1fs  ", static_cast<long long>(c.id),
                  IsoTime(c.started).c_str(), c.result.c_str(),
                  static_cast<double>(c.counts[Counter::kDurationMs]) / 1000.0);
    out += line + CountsText(c.counts) + "\n";
    if (!c.reason.empty()) out += "         reason: " + c.reason + "\n";
  }
  std::string gauges = GaugesText(d.last_measured);
  if (!gauges.empty()) out += "\n" + gauges;
  out += "\nneeds attention: ";
  out += d.attention.empty() ? "nothing\n" : std::to_string(d.attention.size()) + "\n";
  for (const auto& a : d.attention) {
    std::snprintf(line, sizeof line, "  %-5s %-20s %-30s %-12s attempts %d", a.kind.c_str(),
                  a.key.c_str(), a.label.c_str(), a.status.c_str(), a.attempts);
    out += line;
    if (a.next_retry != SysTime{}) out += "  next retry " + IsoTime(a.next_retry);
    if (!a.last_error.empty()) out += "\n        " + a.last_error;
    out += "\n";
  }
  return out;
}

std::string UnmanagedJson(const Plan& plan) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto list = [&](const char* key, const std::vector<UnmanagedObject>& objects,
                  const char* name_key) {
    w.Key(key);
    w.StartArray();
    for (const auto& o : objects) {
      w.StartObject();
      w.Key("id");
      w.String(o.id.c_str(), static_cast<rapidjson::SizeType>(o.id.size()));
      w.Key(name_key);
      w.String(o.name.c_str(), static_cast<rapidjson::SizeType>(o.name.size()));
      w.EndObject();
    }
    w.EndArray();
  };
  w.StartObject();
  list("users", plan.unmanaged_users, "userName");
  list("groups", plan.unmanaged_groups, "displayName");
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace scimsync
