#include "daemon/cli.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <mutex>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>

#include "config/config_loader.h"
#include "connectors/ldap/ldap_dn.h"
#include "core/discovery.h"
#include "core/log.h"
#include "core/profile_checks.h"
#include "core/redact.h"
#include "core/scope.h"
#include "daemon/cycle.h"
#include "daemon/daemon.h"
#include "daemon/keepnet_cli.h"
#include "daemon/scim_config.h"
#include "daemon/session.h"
#include "daemon/status_report.h"
#include "scimsync_version.h"

namespace scimsync {
namespace {

struct GlobalFlags {
  std::string config;
  std::string log_format;  // empty: from the config
  std::string log_level;
};

std::string DefaultConfigPath() {
  if (const char* env = std::getenv("SCIMSYNC_CONFIG"); env && *env) return env;
  return "/etc/scimsync/scimsync.toml";
}

// Applies the config's [log] settings unless the command line overrides them.
void SetUpLogging(const GlobalFlags& flags, const Config* config) {
  DaemonOptions overrides;
  overrides.log_format = flags.log_format;
  overrides.log_level = flags.log_level;
  ApplyLogging(config, overrides);
}

// Loads the config or logs why not. nullopt means exit 2.
std::optional<Config> Load(const GlobalFlags& flags) {
  SetUpLogging(flags, nullptr);
  Result<Config> config = LoadConfig(flags.config);
  if (!config.ok()) {
    LogError("config_error", {{"error", config.status().message()}});
    return std::nullopt;
  }
  SetUpLogging(flags, &*config);
  return std::move(config).value();
}

int Fail(const char* event, const Status& s) {
  LogError(event, {{"error", s.message()}});
  return ExitCodeFor(s);
}

// ---------------------------------------------------------------------------

int CmdPlan(const GlobalFlags& flags, bool json, bool reconcile) {
  auto config = Load(flags);
  if (!config) return 2;
  SessionOptions so;
  so.read_only = true;
  Result<Session> session = OpenSession(*config, so);
  if (!session.ok()) return Fail("session_error", session.status());
  CycleRequest req;
  req.dry_run = true;
  req.reconcile = reconcile;
  req.no_target = session->target_error;
  CycleReport report = RunCycle(*config, *session->source, session->target.get(), *session->state,
                                SystemClock::Instance(), req);
  if (report.result == CycleResult::kStopped) return report.ExitCode();
  std::string out = json ? DescribeJson(report.plan) : Describe(report.plan);
  std::fwrite(out.data(), 1, out.size(), stdout);
  if (!out.empty() && out.back() != '\n') std::fputc('\n', stdout);
  return 0;
}

std::atomic<bool> g_stop{false};
extern "C" void OnStopSignal(int) { g_stop = true; }

// `sync --progress`: the live line on stderr. auto: only when stderr is a terminal
// (never the journal, never a pipe or file: logs there stay plain lines).
bool ShowProgress(const std::string& mode) {
  if (mode == "never") return false;
  if (mode == "always") return true;
  return ::isatty(STDERR_FILENO) == 1 && !IsJournalStream(STDERR_FILENO);
}

int CmdSync(const GlobalFlags& flags, bool allow_deletions, bool no_wait, bool reconcile,
            const std::string& progress) {
  auto config = Load(flags);
  if (!config) return 2;
  SessionOptions so;
  so.who = "scimsync sync";
  so.wait_for_lock = !no_wait;
  Result<Session> session = OpenSession(*config, so);
  if (!session.ok()) return Fail("session_error", session.status());
  // Ctrl-C / SIGTERM: finish in-flight requests, record them, stop.
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  CycleRequest req;
  req.allow_deletions = allow_deletions;
  req.reconcile = reconcile;
  CycleHooks hooks;
  hooks.stop = &g_stop;
  ProgressMeter meter;
  std::mutex meter_mu;
  std::chrono::steady_clock::time_point last_drawn{};
  if (ShowProgress(progress)) {
    hooks.on_progress = [&](const Progress& p) {
      std::lock_guard lock(meter_mu);
      auto now = std::chrono::steady_clock::now();
      std::string line = meter.Line(p, now);
      if (now - last_drawn < std::chrono::milliseconds(200) && p.done != p.total) return;
      last_drawn = now;
      Log().SetLiveLine(line);
    };
  }
  CycleReport report = RunCycle(*config, *session->source, session->target.get(), *session->state,
                                SystemClock::Instance(), req, hooks);
  Log().SetLiveLine("");
  return report.ExitCode();
}

// --- status -----------------------------------------------------------------

// `status` prints what earlier runs stored. The store redacts what it writes, but a
// file written before it did may still hold a secret: reading the secrets registers
// them (config/ ReadSecret), so Redact() below catches them too. A secret this user
// cannot read is left out; the "Bearer" / "Authorization" patterns still apply.
void RegisterSecretsQuietly(const Config& c) {
  (void)ReadSecret(c.target.token_file, c.target.token_env, "token", "target token");
  if (c.source.type == SourceType::kLdap && !c.source.ldap.bind_dn.empty()) {
    (void)ReadSecret(c.source.ldap.bind_password_file, c.source.ldap.bind_password_env,
                     "ldap_password", "LDAP bind password");
  }
}

int CmdStatus(const GlobalFlags& flags, bool json) {
  auto config = Load(flags);
  if (!config) return 2;
  StatusData d;
  d.state_path = config->state;
  d.target_url = config->target.url;
  {
    Result<std::unique_ptr<StateStore>> store = StateStore::OpenReadOnly(config->state);
    if (!store.ok() && store.status().code() == ErrorCode::kNotFound) {
      // Most often a mistyped --config or `state`: saying "no cycles yet" with exit
      // 0 would make a wrong path look healthy.
      LogError("state_error",
               {{"error", store.status().message() + "; check `state` in " + config->path +
                              " (or --config)"}});
      return 2;
    }
    if (!store.ok()) return Fail("state_error", store.status());
    auto cycles = (*store)->RecentCycles(10);
    if (!cycles.ok()) return Fail("state_error", cycles.status());
    d.cycles = std::move(*cycles);
    auto unmanaged = (*store)->GetMeta(kUnmanagedMeta);
    if (unmanaged.ok()) d.unmanaged_json = *unmanaged;
    auto measured = (*store)->LastMeasuredCycle();
    if (!measured.ok()) return Fail("state_error", measured.status());
    d.last_measured = std::move(*measured);
    auto attention = (*store)->NeedsAttention();
    if (!attention.ok()) return Fail("state_error", attention.status());
    d.attention = std::move(*attention);
    auto pid = (*store)->GetMeta("daemon_pid");
    auto next = (*store)->GetMeta("daemon_next_cycle");
    if (pid.ok() && !pid->empty()) {
      d.daemon_pid = std::atol(pid->c_str());
      // The pid is only trusted while that process is alive.
      d.daemon_running = d.daemon_pid > 0 && ::kill(static_cast<pid_t>(d.daemon_pid), 0) == 0;
    }
    if (next.ok()) d.next_cycle = *next;
    // The free text in the file is a server's or a source's words.
    RegisterSecretsQuietly(*config);
    for (auto& c : d.cycles) c.reason = Redact(c.reason);
    for (auto& a : d.attention) a.last_error = Redact(a.last_error);
  }
  std::string out = json ? StatusJson(d) : StatusText(d);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

// --- check -------------------------------------------------------------------

// The profile's behaviours as they apply, each with where its value comes from.
void PrintTargetBehaviour(const TargetConfig& target) {
  EffectiveTarget e = EffectiveOf(target);
  std::printf("ok    target profile %s\n", std::string(ProfileOf(target.profile).name).c_str());
  for (const BehaviourLine& line : e.lines) {
    std::printf("        %s = %s (%s)\n", line.key.c_str(), line.value.c_str(), line.origin.c_str());
  }
  for (const std::string& w : e.warnings) std::printf("warn  %s\n", w.c_str());
}

// What the target says about itself, weighed against the effective behaviours.
void PrintDiscovery(const TargetConfig& config, Target& target) {
  for (const DiscoveryLine& line : WeighDiscovery(target.Discover(), EffectiveOf(config))) {
    std::printf("%s  %s\n", line.warn ? "warn" : "ok  ", Redact(line.text).c_str());
  }
}

// Reads the source whole and says what the [scope] keeps. A scope group the source
// does not have is a warning here (the cycle itself stops on it, before planning).
void CheckScope(const Config& config, Source& source) {
  Result<Directory> dir = source.Read();
  if (!dir.ok()) {
    std::printf("warn  scope: source not read: %s\n", Redact(dir.status().message()).c_str());
    return;
  }
  std::size_t users = dir->users.size(), groups = dir->groups.size();
  ScopeResult scoped = ApplyScope(std::move(dir).value(), config.scope, &NormalizeDn);
  for (const std::string& g : scoped.missing) {
    std::printf("warn  scope group \"%s\" not found in the source; cycles stop until "
                "scope.groups names an existing group (display name or DN)\n",
                Redact(g).c_str());
  }
  std::printf("%s scope: %zu of %zu users, %zu of %zu groups\n",
              scoped.missing.empty() ? "ok   " : "warn ", scoped.dir.users.size(), users,
              scoped.dir.groups.size(), groups);
}

int CmdCheck(const GlobalFlags& flags, bool offline) {
  auto config = Load(flags);
  if (!config) return 2;
  std::printf("ok    config %s\n", config->path.c_str());
  PrintTargetBehaviour(config->target);
  for (const std::string& w : ProfileMappingWarnings(config->target.profile, config->mapping)) {
    std::printf("warn  %s\n", w.c_str());
  }
  Result<std::unique_ptr<Source>> source = MakeSource(*config);
  if (!source.ok()) {
    std::printf("FAIL  source: %s\n", Redact(source.status().message()).c_str());
    return ExitCodeFor(source.status());
  }
  Result<std::unique_ptr<Target>> target = MakeTarget(*config);
  if (!target.ok()) {
    std::printf("FAIL  target: %s\n", Redact(target.status().message()).c_str());
    return ExitCodeFor(target.status());
  }
  std::printf("ok    secrets readable\n");
  struct stat st {};
  if (::stat(config->state.c_str(), &st) == 0) {
    Result<std::unique_ptr<StateStore>> store = StateStore::OpenReadOnly(config->state);
    if (!store.ok()) {
      std::printf("FAIL  state %s: %s\n", config->state.c_str(),
                  Redact(store.status().message()).c_str());
      return 2;
    }
    auto bound = (*store)->GetMeta("target_url");
    std::string want = config->target.url;
    while (!want.empty() && want.back() == '/') want.pop_back();
    if (bound.ok() && !bound->empty() && *bound != want) {
      std::printf("FAIL  state %s belongs to target %s, not %s\n", config->state.c_str(),
                  bound->c_str(), want.c_str());
      return 2;
    }
    std::printf("ok    state %s\n", config->state.c_str());
  } else {
    std::printf("ok    state %s (will be created)\n", config->state.c_str());
  }
  if (offline) return 0;
  int rc = 0;
  Result<std::string> sp = (*source)->Probe();
  if (sp.ok()) {
    std::printf("ok    source %s: %s\n", (*source)->Describe().c_str(), Redact(*sp).c_str());
  } else {
    std::printf("FAIL  source %s: %s\n", (*source)->Describe().c_str(),
                Redact(sp.status().message()).c_str());
    rc = 3;
  }
  if (sp.ok() && !config->scope.Everything()) CheckScope(*config, **source);
  TargetResponse tr = (*target)->Probe();
  if (tr.Ok()) {
    std::printf("ok    target %s: HTTP %d\n", config->target.url.c_str(), tr.status);
    PrintDiscovery(config->target, **target);
  } else {
    std::printf("FAIL  target %s: %s\n", config->target.url.c_str(), Redact(tr.Summary()).c_str());
    rc = 3;
  }
  return rc;
}

}  // namespace

int RunCli(int argc, char** argv) {
  CLI::App app{"scimsync " SCIMSYNC_VERSION
               " - keeps a SCIM 2.0 target in step with an LDAP directory or a CSV export"};
  app.set_version_flag("--version", std::string("scimsync ") + SCIMSYNC_VERSION);
  app.require_subcommand(1);
  GlobalFlags flags;
  flags.config = DefaultConfigPath();
  app.add_option("-c,--config", flags.config,
                 "configuration file (default: $SCIMSYNC_CONFIG, else "
                 "/etc/scimsync/scimsync.toml)");
  app.add_option("--log-format", flags.log_format, "logfmt or json (default: [log] format)")
      ->check(CLI::IsMember({"logfmt", "json"}));
  app.add_option("--log-level", flags.log_level, "debug, info, warn or error (default: [log] level)")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));

  bool plan_json = false, status_json = false, allow_deletions = false, no_wait = false,
       offline = false, plan_reconcile = false, sync_reconcile = false;
  std::string progress = "auto";
  CLI::App* plan = app.add_subcommand("plan", "show what a sync would do; writes nothing");
  plan->add_flag("--json", plan_json, "print the plan as JSON");
  plan->add_flag("--reconcile", plan_reconcile,
                 "read the whole target first and show the repairs of drift");
  CLI::App* sync = app.add_subcommand("sync", "run one sync cycle now, then exit");
  sync->add_flag("--allow-deletions", allow_deletions,
                 "let this one run deprovision more than the deletion guard allows");
  sync->add_flag("--no-wait", no_wait, "exit 4 at once if another run holds the lock");
  sync->add_flag("--reconcile", sync_reconcile,
                 "read the whole target first and repair what differs (drift)");
  sync->add_option("--progress", progress,
                   "live progress line on stderr: auto (a terminal only), always or never")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  CLI::App* daemon = app.add_subcommand("daemon", "run a cycle every `interval` (systemd service)");
  CLI::App* status = app.add_subcommand("status", "last cycles and objects needing attention");
  status->add_flag("--json", status_json, "print as JSON");
  CLI::App* check = app.add_subcommand("check", "validate config and secrets, reach source and target");
  check->add_flag("--offline", offline, "config, secrets and state file only; no network");
  std::unique_ptr<KeepnetCli> keepnet = AddKeepnetCommands(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  if (*plan) return CmdPlan(flags, plan_json, plan_reconcile);
  if (*sync) return CmdSync(flags, allow_deletions, no_wait, sync_reconcile, progress);
  if (*status) return CmdStatus(flags, status_json);
  if (*check) return CmdCheck(flags, offline);
  if (int rc = RunKeepnetCommand(*keepnet); rc >= 0) return rc;
  if (*daemon) {
    DaemonOptions options;
    options.log_format = flags.log_format;
    options.log_level = flags.log_level;
    return RunDaemon(flags.config, options);
  }
  return 2;
}

}  // namespace scimsync
