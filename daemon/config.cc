#include "config.h"

#include <arpa/inet.h>
#include <sched.h>

#include <toml++/toml.h>
#include <fstream>
#include <set>
#include <sstream>

namespace fh::daemon {

namespace {

[[noreturn]] void fail(const std::string& key, const std::string& why) { throw ConfigError(key + ": " + why); }

// Every key a table may hold; anything else is a typo worth an error.
void onlyKeys(const toml::table& t, const std::string& where, const std::set<std::string>& known) {
  for (const auto& [k, v] : t) {
    const std::string key(k.str());
    if (!known.count(key)) fail(where.empty() ? key : where + "." + key, "unknown key");
  }
}

template <class T>
std::optional<T> get(const toml::table& t, const std::string& where, const char* key) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return std::nullopt;
  const std::string name = where + "." + key;
  if constexpr (std::is_same_v<T, std::string>) {
    if (!n->is_string()) fail(name, "must be a string");
    return n->as_string()->get();
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!n->is_boolean()) fail(name, "must be true or false");
    return n->as_boolean()->get();
  } else if constexpr (std::is_same_v<T, double>) {
    if (n->is_integer()) return double(n->as_integer()->get());
    if (!n->is_floating_point()) fail(name, "must be a number");
    return n->as_floating_point()->get();
  } else {
    if (!n->is_integer()) fail(name, "must be an integer");
    return n->as_integer()->get();
  }
}

int64_t integer(const toml::table& t, const std::string& where, const char* key, int64_t fallback, int64_t lo,
                int64_t hi) {
  const int64_t v = get<int64_t>(t, where, key).value_or(fallback);
  if (v < lo || v > hi)
    fail(where + "." + key, std::to_string(v) + " is not in " + std::to_string(lo) + ".." + std::to_string(hi));
  return v;
}

template <class E>
E choice(const toml::table& t, const std::string& where, const char* key, E fallback,
         const std::vector<std::pair<std::string, E>>& options) {
  const auto v = get<std::string>(t, where, key);
  if (!v) return fallback;
  std::string names;
  for (const auto& [name, value] : options) {
    if (*v == name) return value;
    names += (names.empty() ? "" : ", ") + name;
  }
  fail(where + "." + key, "'" + *v + "' is not one of " + names);
}

}  // namespace

const std::vector<std::pair<std::string, NodeChoice>>& numaNodeChoices() {
  static const std::vector<std::pair<std::string, NodeChoice>> choices{
      {"nic", NodeChoice::Nic}, {"cpu", NodeChoice::Cpu}, {"any", NodeChoice::Any}};
  return choices;
}

const std::vector<std::pair<std::string, HugePages>>& hugePagesChoices() {
  static const std::vector<std::pair<std::string, HugePages>> choices{
      {"explicit", HugePages::Explicit}, {"transparent", HugePages::Transparent}, {"off", HugePages::Off}};
  return choices;
}

namespace {

Line line(const toml::table& feed, const std::string& where, const char* key, bool required) {
  const toml::node* n = feed.get(key);
  const std::string name = where + "." + key;
  if (n == nullptr) {
    if (required) fail(name, "missing: a feed needs at least line_a (group and port)");
    return {};
  }
  if (!n->is_table()) fail(name, "must be a table with group and port");
  const toml::table& t = *n->as_table();
  onlyKeys(t, name, {"group", "port", "source"});
  Line l;
  const auto group = get<std::string>(t, name, "group");
  if (!group) fail(name + ".group", "missing");
  const auto g = parseIpv4(*group);
  if (!g || (*g >> 28) != 0xE) fail(name + ".group", "'" + *group + "' is not an IPv4 multicast group");
  l.group = *g;
  if (!t.get("port")) fail(name + ".port", "missing");
  l.port = static_cast<uint16_t>(integer(t, name, "port", 0, 1, 65535));
  if (const auto s = get<std::string>(t, name, "source")) {
    const auto a = parseIpv4(*s);
    if (!a) fail(name + ".source", "'" + *s + "' is not an IPv4 address");
    l.source = *a;
  }
  return l;
}

void checkLines(Feed& f, const std::string& lineBKey) {
  if (f.lineB && f.lineB->group == f.lineA.group && f.lineB->port == f.lineA.port)
    fail(lineBKey, "is the same group and port as line_a");
  f.sequencer.lines = f.lineB ? 2 : 1;  // a new session needs other evidence on one line
}

// [feed.retransmission]: where and how holes are re-requested.
void retransmission(const toml::table& feed, const std::string& where, Feed& f) {
  const std::string name = where + ".retransmission";
  const toml::node* n = feed.get("retransmission");
  if (!n->is_table()) fail(name, "must be a table with servers = [\"ADDRESS:PORT\", ...]");
  const toml::table& t = *n->as_table();
  onlyKeys(t, name, {"servers", "port", "timeout_us", "attempts", "max_messages", "in_flight"});
  const toml::node* s = t.get("servers");
  if (s == nullptr || !s->is_array() || s->as_array()->empty())
    fail(name + ".servers", "must be a list of one or more \"ADDRESS:PORT\" re-request servers");
  for (const toml::node& e : *s->as_array()) {
    const std::optional<Endpoint> server = e.is_string() ? parseEndpoint(e.as_string()->get()) : std::nullopt;
    if (!server) fail(name + ".servers", "each server must be \"IPV4:PORT\", e.g. \"198.18.0.1:26500\"");
    f.rerequestServers.push_back(*server);
  }
  if (f.rerequestServers.size() > 16) fail(name + ".servers", "at most 16 servers");
  f.rerequestPort = static_cast<uint16_t>(integer(t, name, "port", 0, 0, 65535));
  feed::RetransmissionConfig& r = f.sequencer.retransmission;
  r.servers = static_cast<uint32_t>(f.rerequestServers.size());
  r.timeoutNs = uint64_t(integer(t, name, "timeout_us", 5000, 10, 60'000'000)) * 1000;
  r.attempts = static_cast<uint32_t>(integer(t, name, "attempts", 3, 1, 100));
  r.maxMessages = static_cast<uint32_t>(integer(t, name, "max_messages", 0xFFFE, 1, 0xFFFE));
  r.inFlight = static_cast<uint32_t>(integer(t, name, "in_flight", 8, 1, 64));
}

// [feed.snapshot]: the GLIMPSE server that rebuilds the books after a join
// or a hole lost for good.
void snapshot(const toml::table& feed, const std::string& where, Feed& f) {
  const std::string name = where + ".snapshot";
  const toml::node* n = feed.get("snapshot");
  if (!n->is_table()) fail(name, "must be a table with server = \"ADDRESS:PORT\"");
  const toml::table& t = *n->as_table();
  onlyKeys(t, name,
           {"server", "username", "password", "session", "buffer_messages", "buffer_mib", "retry_ms", "timeout_ms",
            "check_messages"});
  const auto server = get<std::string>(t, name, "server");
  if (!server) fail(name + ".server", "missing: the GLIMPSE server, \"ADDRESS:PORT\"");
  const std::optional<Endpoint> e = parseEndpoint(*server);
  if (!e) fail(name + ".server", "'" + *server + "' is not \"IPV4:PORT\", e.g. \"198.18.0.1:26600\"");
  SnapshotSource& s = f.snapshot;
  s.server = *e;
  s.username = get<std::string>(t, name, "username").value_or("fh");
  s.password = get<std::string>(t, name, "password").value_or("fh");
  s.session = get<std::string>(t, name, "session").value_or("");
  if (s.username.size() > 6) fail(name + ".username", "at most 6 characters (SoupBinTCP)");
  if (s.password.size() > 10) fail(name + ".password", "at most 10 characters (SoupBinTCP)");
  if (s.session.size() > 10) fail(name + ".session", "at most 10 characters (SoupBinTCP)");
  s.retryMs = static_cast<uint32_t>(integer(t, name, "retry_ms", 1000, 10, 3'600'000));
  s.timeoutMs = static_cast<uint32_t>(integer(t, name, "timeout_ms", 15000, 100, 600'000));
  feed::SnapshotConfig& c = f.snapshotStage;
  c.enabled = true;
  c.bufferMessages = static_cast<uint32_t>(integer(t, name, "buffer_messages", 1 << 20, 1024, 1 << 28));
  c.bufferBytes = static_cast<uint32_t>(integer(t, name, "buffer_mib", 64, 1, 4095)) << 20;
  c.checkMessages = static_cast<uint32_t>(integer(t, name, "check_messages", 10000, 0, 1 << 30));
}

Feed feed(const toml::table& t, const std::string& where) {
  onlyKeys(t, where, {"name",           "protocol", "source", "interface",      "queues",       "xdp_mode",
                      "zero_copy",      "cpu",      "idle",   "busy_poll",      "busy_poll_us", "busy_poll_budget",
                      "batch",          "line_a",   "line_b", "gap_timeout_us", "held_packets", "line_silence_ms",
                      "retransmission", "snapshot", "replay", "rate",           "trading_date"});
  Feed f;
  f.name = get<std::string>(t, where, "name").value_or("feed");
  const std::string protocol = get<std::string>(t, where, "protocol").value_or("itch50-moldudp64");
  if (protocol != "itch50-moldudp64") fail(where + ".protocol", "'" + protocol + "' is not itch50-moldudp64");
  f.source = choice<Source>(t, where, "source", Source::Udp,
                            {{"xdp", Source::Xdp}, {"udp", Source::Udp}, {"file", Source::File}});
  f.interface = get<std::string>(t, where, "interface").value_or("");
  if (const toml::node* q = t.get("queues")) {
    if (!q->is_array()) fail(where + ".queues", "must be an array of queue numbers, e.g. [0, 1]");
    for (const toml::node& e : *q->as_array()) {
      if (!e.is_integer() || e.as_integer()->get() < 0 || e.as_integer()->get() > 63)
        fail(where + ".queues", "each queue must be an integer in 0..63");
      f.queues.push_back(static_cast<uint32_t>(e.as_integer()->get()));
    }
  }
  if (f.queues.empty()) f.queues.push_back(0);
  f.xdpMode = choice<XdpModeChoice>(
      t, where, "xdp_mode", XdpModeChoice::Auto,
      {{"auto", XdpModeChoice::Auto}, {"native", XdpModeChoice::Native}, {"generic", XdpModeChoice::Generic}});
  f.zeroCopy = get<bool>(t, where, "zero_copy").value_or(true);
  f.cpu = static_cast<int>(integer(t, where, "cpu", -1, -1, CPU_SETSIZE - 1));  // pthread_setaffinity_np's cpu_set_t
  f.idle = choice<Idle>(t, where, "idle", Idle::SpinYield,
                        {{"spin", Idle::Spin}, {"spin-yield", Idle::SpinYield}, {"poll", Idle::Poll}});
  f.busyPoll = get<bool>(t, where, "busy_poll").value_or(true);
  f.busyPollUs = static_cast<uint32_t>(integer(t, where, "busy_poll_us", 20, 0, 1'000'000));
  f.busyPollBudget = static_cast<uint32_t>(integer(t, where, "busy_poll_budget", 64, 1, 4096));
  f.batch = static_cast<uint32_t>(integer(t, where, "batch", 64, 1, 1024));
  f.sequencer.gapTimeoutNs = uint64_t(integer(t, where, "gap_timeout_us", 2000, 1, 60'000'000)) * 1000;
  f.sequencer.heldPackets = static_cast<uint32_t>(integer(t, where, "held_packets", 1024, 1, 65536));
  f.sequencer.lineSilenceNs = uint64_t(integer(t, where, "line_silence_ms", 3000, 0, 3'600'000)) * 1'000'000;
  if (t.get("retransmission")) retransmission(t, where, f);
  if (t.get("snapshot")) snapshot(t, where, f);
  f.replay = get<std::string>(t, where, "replay").value_or("");
  f.rate = get<double>(t, where, "rate").value_or(0);
  if (f.rate < 0) fail(where + ".rate", "must not be negative");
  f.tradingDate = get<std::string>(t, where, "trading_date").value_or("");
  if (f.source == Source::File) {
    if (f.replay.empty()) fail(where + ".replay", "missing: source = \"file\" replays a capture");
    // A capture of the feed's lines is sequenced as live; without them, every datagram in file order.
    f.replayLines = t.get("line_a") != nullptr;
    if (!f.replayLines && t.get("line_b")) fail(where + ".line_b", "needs line_a");
  } else if (f.interface.empty()) {
    fail(where + ".interface", "missing: source = \"xdp\" and \"udp\" read an interface");
  }
  if (f.source != Source::File || f.replayLines) {
    f.lineA = line(t, where, "line_a", true);
    if (t.get("line_b")) f.lineB = line(t, where, "line_b", true);
    checkLines(f, where + ".line_b");
  }
  return f;
}

}  // namespace

std::optional<uint32_t> parseIpv4(const std::string& text) {
  in_addr a{};
  if (::inet_pton(AF_INET, text.c_str(), &a) != 1) return std::nullopt;
  return ntohl(a.s_addr);
}

Line parseLine(const std::string& text, const std::string& key) {
  const std::optional<Endpoint> e = parseEndpoint(text);
  if (!e || (e->address >> 28) != 0xE) fail(key, "'" + text + "' is not GROUP:PORT of an IPv4 multicast group");
  Line l;
  l.group = e->address;
  l.port = e->port;
  return l;
}

void setReplayLines(Feed& f, const std::string& lineA, const std::string& lineB) {
  if (lineA.empty()) {
    if (!lineB.empty()) fail("--line-b", "needs --line-a");
    return;
  }
  f.replayLines = true;
  f.lineA = parseLine(lineA, "--line-a");
  if (!lineB.empty()) f.lineB = parseLine(lineB, "--line-b");
  checkLines(f, "--line-b");
}

std::string formatIpv4(uint32_t address) {
  in_addr a{htonl(address)};
  char text[INET_ADDRSTRLEN];
  ::inet_ntop(AF_INET, &a, text, sizeof text);
  return text;
}

Config parseConfig(const std::string& text, const std::string& origin) {
  toml::table root;
  try {
    root = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    std::ostringstream out;
    out << origin << ":" << e.source().begin.line << ":" << e.source().begin.column << ": " << e.description();
    throw ConfigError(out.str());
  }
  onlyKeys(root, "", {"instance", "book", "shm", "memory", "feed"});
  Config c;
  if (const toml::node* n = root.get("instance")) {
    if (!n->is_table()) fail("instance", "must be a table");
    const toml::table& t = *n->as_table();
    onlyKeys(t, "instance", {"name", "log_level", "housekeeping_cpu"});
    c.instance = get<std::string>(t, "instance", "name").value_or("fh");
    c.logLevel = choice<std::string>(
        t, "instance", "log_level", "info",
        {{"trace", "trace"}, {"debug", "debug"}, {"info", "info"}, {"warn", "warn"}, {"error", "error"}});
    c.housekeepingCpu = static_cast<int>(integer(t, "instance", "housekeeping_cpu", -1, -1, CPU_SETSIZE - 1));
  }
  if (const toml::node* n = root.get("memory")) {
    if (!n->is_table()) fail("memory", "must be a table");
    const toml::table& t = *n->as_table();
    onlyKeys(t, "memory", {"numa_node", "huge_pages"});
    if (const toml::node* node = t.get("numa_node"); node != nullptr && node->is_integer()) {
      c.memory.place = NodeChoice::Number;
      c.memory.node = static_cast<int>(integer(t, "memory", "numa_node", 0, 0, 1023));
    } else if (node != nullptr && !node->is_string()) {
      fail("memory.numa_node", "must be \"nic\", \"cpu\", \"any\" or a node number");
    } else {
      c.memory.place = choice<NodeChoice>(t, "memory", "numa_node", NodeChoice::Nic, numaNodeChoices());
    }
    c.memory.pages = choice<HugePages>(t, "memory", "huge_pages", HugePages::Transparent, hugePagesChoices());
  }
  c.region.name = c.instance;
  if (const toml::node* n = root.get("shm")) {
    if (!n->is_table()) fail("shm", "must be a table");
    const toml::table& t = *n->as_table();
    onlyKeys(t, "shm", {"name", "directory", "group", "depth", "ring_mib", "tap_mib", "mode"});
    c.region.name = get<std::string>(t, "shm", "name").value_or(c.instance);
    c.region.directory = get<std::string>(t, "shm", "directory").value_or("/dev/shm");
    c.region.group = get<std::string>(t, "shm", "group").value_or("");
    c.region.depth = static_cast<uint32_t>(integer(t, "shm", "depth", 10, 1, shm::kMaxDepth));
    const int64_t ringMiB = integer(t, "shm", "ring_mib", 64, 1, 16384);
    if ((ringMiB & (ringMiB - 1)) != 0) fail("shm.ring_mib", std::to_string(ringMiB) + " is not a power of two");
    c.region.ringBytes = uint64_t(ringMiB) << 20;
    const int64_t tapMiB = integer(t, "shm", "tap_mib", 16, 0, 1024);
    if ((tapMiB & (tapMiB - 1)) != 0)
      fail("shm.tap_mib", std::to_string(tapMiB) + " is not a power of two (or 0: no capture tap)");
    c.region.tapBytes = uint64_t(tapMiB) << 20;
    const std::string mode = get<std::string>(t, "shm", "mode").value_or("0640");
    try {
      size_t used = 0;
      c.region.mode = static_cast<mode_t>(std::stoul(mode, &used, 8));
      if (used != mode.size()) throw std::invalid_argument(mode);
    } catch (const std::exception&) {
      fail("shm.mode", "'" + mode + "' is not an octal mode such as \"0640\"");
    }
  }
  if (const toml::node* n = root.get("book")) {
    if (!n->is_table()) fail("book", "must be a table");
    const toml::table& t = *n->as_table();
    onlyKeys(t, "book", {"max_instruments", "max_orders", "max_levels"});
    c.book.maxInstruments = static_cast<uint32_t>(integer(t, "book", "max_instruments", 65536, 2, 65536));
    c.book.maxOrders = static_cast<uint32_t>(integer(t, "book", "max_orders", 1 << 23, 16, 1 << 30));
    c.book.maxLevels = static_cast<uint32_t>(integer(t, "book", "max_levels", 1 << 23, 64, 1 << 30));
  }
  c.region.maxInstruments = c.book.maxInstruments;
  const toml::node* feeds = root.get("feed");
  if (feeds == nullptr) fail("feed", "missing: configure one [[feed]]");
  if (!feeds->is_array_of_tables()) fail("feed", "must be written [[feed]]");
  const toml::array& list = *feeds->as_array();
  if (list.size() != 1)
    fail("feed", std::to_string(list.size()) +
                     " feeds: one fhd instance serves one feed in this version; run one "
                     "instance (with its own shm name) per feed");
  c.feeds.push_back(feed(*list[0].as_table(), "feed[0]"));
  try {
    shm::RegionConfig check = c.region;
    shm::validate(check);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(e.what());
  }
  return c;
}

Config loadConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(path + ": cannot read the configuration file");
  std::stringstream text;
  text << in.rdbuf();
  return parseConfig(text.str(), path);
}

}  // namespace fh::daemon
