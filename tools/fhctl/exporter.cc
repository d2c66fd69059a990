// fhctl exporter: the counters, states and latency histograms of one or more
// regions in Prometheus's text exposition format (version 0.0.4), served at
// /metrics over HTTP or written once to a file for node-exporter's textfile
// collector (under a temporary name, then renamed). Names are prefixed fh_,
// in base units, counters end in _total; labels say the feed (the region's
// name), the line and the queue, never a symbol.
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "commands.h"
#include "shm/consumer.h"

namespace fh::ctl {

namespace {

// A metric family: its samples from every feed, kept together as the format requires.
struct Family {
  std::string type;  // counter, gauge, histogram
  std::string help;
  std::vector<std::string> samples;  // whole lines
};

class Exposition {
 public:
  Family& family(const std::string& name, const char* type, const std::string& help) {
    auto [it, added] = families_.try_emplace(name);
    if (added) {
      order_.push_back(name);
      it->second.type = type;
      it->second.help = help;
    }
    return it->second;
  }
  void sample(const std::string& family, const char* type, const std::string& help, const std::string& suffix,
              const std::string& labels, double value) {
    this->family(family, type, help).samples.push_back(family + suffix + "{" + labels + "} " + number(value));
  }
  std::string text() const {
    std::string out;
    for (const std::string& name : order_) {
      const Family& f = families_.at(name);
      out += "# HELP " + name + " " + f.help + "\n# TYPE " + name + " " + f.type + "\n";
      for (const std::string& s : f.samples) out += s + "\n";
    }
    return out;
  }
  static std::string number(double v) {
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    char buf[40];
    // Integers as integers (counters stay exact up to 2^53), others in full precision.
    if (v == std::floor(v) && std::fabs(v) < 9007199254740992.0)
      std::snprintf(buf, sizeof buf, "%.0f", v);
    else
      std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
  }

 private:
  std::map<std::string, Family> families_;
  std::vector<std::string> order_;
};

std::string labelValue(std::string_view v) {
  std::string out;
  for (const char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string metricName(std::string_view counter) {
  std::string out = "fh_";
  for (const char c : counter) out += (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_') ? c : '_';
  return out;
}

// Region counters that are levels, not counts: name, and a new name and scale for those not in base units.
struct Gauge {
  const char* counter;
  const char* metric;  // nullptr: fh_ and the counter's name
  double scale;
};
constexpr Gauge kGauges[] = {
    {"book.live_orders", nullptr, 1},
    {"book.live_levels", nullptr, 1},
    {"feed.joining", nullptr, 1},
    {"feed.stale", nullptr, 1},
    {"feed.joined_at", "fh_feed_joined_at_sequence", 1},
    {"snapshot.waiting", nullptr, 1},
    {"snapshot.last_sequence", nullptr, 1},
    {"snapshot.merged_ns", "fh_snapshot_merged_timestamp_seconds", 1e-9},
    {"snapshot.fetch_ms", "fh_snapshot_fetch_duration_seconds", 1e-3},
    {"retransmission.in_flight", nullptr, 1},
    {"arbiter.held_messages", nullptr, 1},
    {"source.busy_poll_in_effect", nullptr, 1},
    {"xsk.zero_copy", nullptr, 1},
    {"xdp.native_mode", nullptr, 1},
    {"tap.attached", nullptr, 1},
    {"memory.stores_bytes", nullptr, 1},
    {"memory.stores_huge_page_bytes", nullptr, 1},
    {"memory.stores_off_node_bytes", nullptr, 1},
    {"memory.stores_node", nullptr, 1},
    {"memory.umem_bytes", nullptr, 1},
    {"memory.umem_huge_page_bytes", nullptr, 1},
    {"memory.umem_off_node_bytes", nullptr, 1},
    {"memory.umem_node", nullptr, 1},
};

constexpr const char* kLineCounters[] = {"packets",  "messages", "applied", "duplicates", "late",
                                         "unparsed", "foreign",  "silent",  "silences"};

void counterSample(Exposition& e, const std::string& feedLabel, std::string_view name, uint64_t value) {
  const std::string help = "fh region counter " + std::string(name);
  for (const Gauge& g : kGauges)
    if (name == g.counter) {
      e.sample(g.metric != nullptr ? g.metric : metricName(name), "gauge", "fh region gauge " + std::string(name), "",
               feedLabel, static_cast<double>(value) * g.scale);
      return;
    }
  // Per line: line_a.X, line_b.X and the re-request servers' retransmission.X.
  for (const char* line : {"line_a", "line_b", "retransmission"}) {
    const std::string prefix = std::string(line) + ".";
    if (name.substr(0, prefix.size()) != prefix) continue;
    const std::string_view what = name.substr(prefix.size());
    for (const char* l : kLineCounters) {
      if (what != l) continue;
      const std::string labels =
          feedLabel + ",line=\"" + (line[0] == 'l' ? std::string(1, line[5]) : std::string("retransmission")) + "\"";
      const std::string base = "fh_line_" + std::string(what);
      if (what == "silent")
        e.sample(base, "gauge", "1 while the line is silent", "", labels, static_cast<double>(value));
      else
        e.sample(base + "_total", "counter", "fh region counter <line>." + std::string(what), "", labels,
                 static_cast<double>(value));
      return;
    }
  }
  // xsk.queue<N>.frames
  if (name.substr(0, 9) == "xsk.queue" && name.size() > 16 && name.substr(name.size() - 7) == ".frames") {
    const std::string_view queue = name.substr(9, name.size() - 16);
    e.sample("fh_xsk_queue_frames_total", "counter", "frames read from the AF_XDP socket of the queue", "",
             feedLabel + ",queue=\"" + labelValue(queue) + "\"", static_cast<double>(value));
    return;
  }
  if (name.substr(0, 9) == "xdp.pass.") {
    e.sample("fh_xdp_passed_total", "counter", "packets the XDP program passed to the kernel, by reason", "",
             feedLabel + ",reason=\"" + labelValue(name.substr(9)) + "\"", static_cast<double>(value));
    return;
  }
  e.sample(metricName(name) + "_total", "counter", help, "", feedLabel, static_cast<double>(value));
}

// le edges: 2^k and 1.5 * 2^k ns for 2^8 (256 ns) .. 2^34 ns (17 s), each an
// edge of the region's buckets. A bucket counts the values below its edge (in
// whole ns, so at most the edge minus 1 ns).
void histogramSamples(Exposition& e, const std::string& feedLabel, std::string_view name,
                      const shm::HistogramSnapshot& h) {
  std::string base = metricName(name);
  if (base.size() > 3 && base.substr(base.size() - 3) == "_ns") base.resize(base.size() - 3);
  base += "_seconds";
  const std::string help = "fh region histogram " + std::string(name) + ", in seconds";
  const auto bucket = [&](const std::string& le, double cumulative) {
    e.sample(base, "histogram", help, "_bucket", feedLabel + ",le=\"" + le + "\"", cumulative);
  };
  uint64_t below = h.fields.negative;  // values below 0 are below every edge
  uint32_t next = 0;                   // region buckets counted so far
  for (int k = 8; k <= 34; ++k) {
    for (const uint64_t edge : {uint64_t{1} << k, (uint64_t{3} << k) / 2}) {
      if (k == 34 && edge != uint64_t{1} << k) continue;
      const uint32_t to = shm::histogramBucket(edge);  // the first bucket at or above the edge
      for (; next < to; ++next) below += h.buckets[next];
      char le[32];
      std::snprintf(le, sizeof le, "%.12g", static_cast<double>(edge) * 1e-9);  // exact: at most 11 digits
      bucket(le, static_cast<double>(below));
    }
  }
  bucket("+Inf", static_cast<double>(h.fields.count));
  e.sample(base, "histogram", help, "_sum", feedLabel, h.fields.sum * 1e-9);
  e.sample(base, "histogram", help, "_count", feedLabel, static_cast<double>(h.fields.count));
}

constexpr const char* kSourceStates[] = {"idle", "running", "done", "failed", "stopped"};

// One region: attached when it can be, again after a restart.
struct Target {
  std::string name;
  std::unique_ptr<shm::Consumer> consumer;
  std::string lastError;
};

void collect(Exposition& e, Target& t, const RegionOptions& region) {
  const std::string feedLabel = "feed=\"" + labelValue(t.name) + "\"";
  if (t.consumer == nullptr) {
    try {
      shm::Consumer::Options o;
      o.directory = region.directory;
      t.consumer = std::make_unique<shm::Consumer>(t.name, o);
      t.lastError.clear();
    } catch (const std::exception& ex) {
      if (t.lastError != ex.what()) std::fprintf(stderr, "fhctl exporter: %s\n", ex.what());
      t.lastError = ex.what();
    }
  } else {
    t.consumer->refresh();
  }
  const shm::Consumer* c = t.consumer.get();
  const bool up = c != nullptr && c->writerStatus() == shm::WriterStatus::Running;
  e.sample("fh_up", "gauge", "1 while the region's writer runs and its heartbeat is fresh", "", feedLabel, up ? 1 : 0);
  if (c == nullptr) return;
  const shm::RegionHeader& h = c->header();
  e.sample("fh_writer_start_time_seconds", "gauge", "when the region's writer started, seconds since the epoch", "",
           feedLabel, static_cast<double>(h.startNs) * 1e-9);
  e.sample("fh_writer_heartbeat_timestamp_seconds", "gauge", "the writer's last heartbeat, seconds since the epoch", "",
           feedLabel, static_cast<double>(h.heartbeatNs.load(std::memory_order_relaxed)) * 1e-9);
  e.sample("fh_writer_pid", "gauge", "process id of the region's writer", "", feedLabel, h.writerPid);
  const auto source = static_cast<uint32_t>(c->sourceState());
  for (uint32_t s = 0; s < std::size(kSourceStates); ++s)
    e.sample("fh_source_state", "gauge", "1 for the state the feed's source is in", "",
             feedLabel + ",state=\"" + kSourceStates[s] + "\"", s == source ? 1 : 0);
  for (uint32_t i = 0; i < c->counterCount(); ++i) counterSample(e, feedLabel, c->counterName(i), c->counter(i));
  auto snapshot = std::make_unique<shm::HistogramSnapshot>();
  for (uint32_t i = 0; i < c->histogramCount(); ++i)
    if (c->copyHistogram(i, *snapshot) == shm::CopyStatus::Ok)
      histogramSamples(e, feedLabel, c->histogramName(i), *snapshot);
}

std::string render(std::vector<Target>& targets, const RegionOptions& region) {
  Exposition e;
  for (Target& t : targets) collect(e, t, region);
  return e.text();
}

bool writeAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

int writeTextfile(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) {
    std::fprintf(stderr, "fhctl exporter: --textfile: cannot create %s: %s\n", temporary.c_str(), std::strerror(errno));
    return 1;
  }
  bool ok = true;
  for (std::string_view rest = text; ok && !rest.empty();) {
    const ssize_t n = ::write(fd, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) rest.remove_prefix(static_cast<size_t>(n));
  }
  ok = ok && ::fsync(fd) == 0;
  ok = ::close(fd) == 0 && ok;
  if (!ok || ::rename(temporary.c_str(), path.c_str()) != 0) {
    std::fprintf(stderr, "fhctl exporter: --textfile: cannot write %s: %s\n", path.c_str(), std::strerror(errno));
    ::unlink(temporary.c_str());
    return 1;
  }
  return 0;
}

int listenOn(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon + 1 == address.size())
    throw std::runtime_error("--listen: '" + address + "' is not HOST:PORT");
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (const int e =
          ::getaddrinfo(host.empty() ? nullptr : host.c_str(), address.substr(colon + 1).c_str(), &hints, &found);
      e != 0)
    throw std::runtime_error("--listen: '" + address + "': " + ::gai_strerror(e));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owner(found, ::freeaddrinfo);
  std::string why;
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 16) == 0) return fd;
    why = std::strerror(errno);
    ::close(fd);
  }
  throw std::runtime_error("--listen: cannot listen on " + address + (why.empty() ? "" : ": " + why));
}

// One request, answered, then the connection closed. A client gets 2 s to
// send its request head.
void serve(int client, std::vector<Target>& targets, const RegionOptions& region) {
  std::string request;
  char buf[2048];
  while (request.find("\r\n\r\n") == std::string::npos && request.find("\n\n") == std::string::npos &&
         request.size() < 8192) {
    pollfd p{client, POLLIN, 0};
    if (::poll(&p, 1, 2000) <= 0) return;
    const ssize_t n = ::recv(client, buf, sizeof buf, 0);
    if (n <= 0) return;
    request.append(buf, static_cast<size_t>(n));
  }
  const size_t sp1 = request.find(' '), sp2 = sp1 == std::string::npos ? sp1 : request.find(' ', sp1 + 1);
  const std::string method = request.substr(0, sp1);
  std::string path = sp2 == std::string::npos ? "" : request.substr(sp1 + 1, sp2 - sp1 - 1);
  path = path.substr(0, path.find('?'));
  const auto reply = [&](const char* status, const char* type, const std::string& body) {
    std::string head = std::string("HTTP/1.1 ") + status + "\r\nContent-Type: " + type +
                       "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
    if (writeAll(client, head) && method != "HEAD") writeAll(client, body);
  };
  if (method != "GET" && method != "HEAD")
    reply("405 Method Not Allowed", "text/plain; charset=utf-8", "only GET and HEAD\n");
  else if (path == "/metrics")
    reply("200 OK", "text/plain; version=0.0.4; charset=utf-8", render(targets, region));
  else if (path == "/")
    reply("200 OK", "text/html; charset=utf-8", "<html><body><a href=\"/metrics\">fh metrics</a></body></html>\n");
  else
    reply("404 Not Found", "text/plain; charset=utf-8", "not found: the metrics are at /metrics\n");
}

}  // namespace

int runExporter(const ExporterOptions& options, const RegionOptions& region) {
  std::vector<Target> targets;
  for (const std::string& name : options.regions.empty() ? std::vector<std::string>{region.name} : options.regions)
    targets.push_back(Target{name, nullptr, {}});
  if (options.textfile) return writeTextfile(*options.textfile, render(targets, region));

  installStopHandlers();
  int listener = -1;
  try {
    listener = listenOn(options.listen);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fhctl exporter: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "fhctl exporter: serving /metrics on %s\n", options.listen.c_str());
  while (!stopRequested()) {
    pollfd p{listener, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    const int client = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    serve(client, targets, region);
    ::close(client);
  }
  ::close(listener);
  return 0;
}

}  // namespace fh::ctl
