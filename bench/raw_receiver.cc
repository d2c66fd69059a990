// The floor of the adoption benchmark (bench/adoption.sh): the least a
// receiver of the feed can do. It takes the MoldUDP64 packets of lines A and B
// from an AF_XDP socket (fh's own XDP steering program, no decode) or from
// kernel UDP sockets (recvmmsg), keeps the first copy of each sequence number,
// and for each message takes the time since the sender stamped it
// (`fhsim publish --stamp`). It stops at End of Session, or after --idle-ms
// without a packet once one came. Prints one JSON line: messages, the delay's
// p50/p99/p99.9/max in ns and at every percent, messages lost (holes, and the tail before End of
// Session), and its own user and system CPU time from the first packet on.
//   raw_receiver xdp|udp --interface IF --line-a GROUP:PORT [--line-b GROUP:PORT]
//                [--cpu N] [--idle spin|poll] [--idle-ms MS]
#include <poll.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "capture/capture.h"
#include "config.h"
#include "mold/moldudp64.h"
#include "record/record.h"
#include "shm/clock.h"
#include "sources.h"
#include "util/endpoint.h"
#include "xsk/socket.h"
#include "xsk/steering.h"

namespace {

int64_t realtimeNs() noexcept { return int64_t(fh::shm::realtimeNs()); }

// Midnight in New York today, as `fhsim publish --stamp` takes it.
int64_t easternMidnight() {
  const int64_t now = realtimeNs();
  const time_t secs = now / 1'000'000'000;
  tm utc{};
  gmtime_r(&secs, &utc);
  int64_t midnight = fh::record::easternMidnightNs(utc.tm_year + 1900, unsigned(utc.tm_mon + 1), unsigned(utc.tm_mday));
  if (now < midnight) midnight -= 86'400'000'000'000;
  return midnight;
}

// First copy of each sequence wins; the delay of every message it carries is kept.
class Arbiter {
 public:
  explicit Arbiter(int64_t midnight) : midnight_(midnight) { delays_.reserve(1 << 24); }

  void packet(std::span<const uint8_t> payload, int64_t nowNs) {
    if (payload.size() < fh::mold::kHeaderLength) return;
    const fh::mold::PacketHeader h = fh::mold::readHeader(payload.data());
    if (h.count == fh::mold::kEndOfSessionCount) {
      ended_ = true;
      endSequence_ = h.sequence;
      return;
    }
    if (h.count == 0 || h.sequence + h.count <= next_) return;  // a heartbeat, or the other line's copy came first
    if (h.sequence > next_) holes_ += h.sequence - next_;
    fh::mold::forEachMessage(payload, [&](uint64_t sequence, const uint8_t* msg, uint16_t length) {
      if (sequence < next_ || length < 11) return;
      uint64_t stamp = 0;
      for (int i = 0; i < 6; ++i) stamp = stamp << 8 | msg[5 + i];
      delays_.push_back(nowNs - midnight_ - int64_t(stamp));
    });
    next_ = std::max(next_, h.sequence + h.count);
  }

  bool ended() const noexcept { return ended_; }
  const std::vector<int64_t>& delays() const noexcept { return delays_; }
  // Messages never received: holes passed over, and the tail before End of Session.
  uint64_t lost() const noexcept { return holes_ + (ended_ && endSequence_ > next_ ? endSequence_ - next_ : 0); }

 private:
  int64_t midnight_;
  uint64_t next_ = 1;
  uint64_t holes_ = 0;
  bool ended_ = false;
  uint64_t endSequence_ = 0;
  std::vector<int64_t> delays_;
};

struct Options {
  std::string mode, interface;
  std::vector<fh::daemon::Line> lines;
  int cpu = -1;
  bool spin = true;
  int idleMs = 2000;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "raw_receiver: %s\nusage: raw_receiver xdp|udp --interface IF --line-a GROUP:PORT "
               "[--line-b GROUP:PORT] [--cpu N] [--idle spin|poll] [--idle-ms MS]\n",
               why);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  if (argc < 2) usage("no mode");
  o.mode = argv[1];
  if (o.mode != "xdp" && o.mode != "udp") usage("the mode is xdp or udp");
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) usage(("no value for " + a).c_str());
    const std::string v = argv[++i];
    if (a == "--interface") {
      o.interface = v;
    } else if (a == "--line-a" || a == "--line-b") {
      const auto e = fh::parseEndpoint(v);
      if (!e) usage((a + ": not GROUP:PORT: " + v).c_str());
      fh::daemon::Line l;
      l.group = e->address;
      l.port = e->port;
      o.lines.push_back(l);
    } else if (a == "--cpu") {
      o.cpu = std::stoi(v);
    } else if (a == "--idle") {
      if (v != "spin" && v != "poll") usage("--idle is spin or poll");
      o.spin = v == "spin";
    } else if (a == "--idle-ms") {
      o.idleMs = std::stoi(v);
    } else {
      usage(("unknown option " + a).c_str());
    }
  }
  if (o.interface.empty() || o.lines.empty()) usage("--interface and --line-a are needed");
  return o;
}

void pin(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (::sched_setaffinity(0, sizeof set, &set) != 0) std::perror("raw_receiver: sched_setaffinity");
}

rusage cpuAtFirstPacket{};  // CPU time is counted from the first packet on

// Spins (or sleeps in poll) on `receive` until End of Session or silence.
template <class Receive, class Wait>
void run(const Options& o, Arbiter& arbiter, Receive&& receive, Wait&& wait) {
  int64_t last = 0;
  while (!arbiter.ended()) {
    if (receive() > 0) {
      if (last == 0) ::getrusage(RUSAGE_SELF, &cpuAtFirstPacket);
      last = realtimeNs();
      continue;
    }
    if (last != 0 && realtimeNs() - last > int64_t(o.idleMs) * 1'000'000) break;
    if (!o.spin) wait();
  }
}

void receiveXdp(const Options& o, Arbiter& arbiter) {
  fh::xsk::Steering steering;
  const fh::xsk::XdpMode mode = steering.attach(o.interface);
  for (size_t l = 0; l < o.lines.size(); ++l) steering.addLine(o.lines[l].group, o.lines[l].port, uint32_t(l), 0);
  fh::xsk::SocketConfig c;
  c.interface = o.interface;
  c.xdpMode = mode;
  fh::xsk::Socket socket(c);
  steering.setSocket(0, socket.fd());
  std::vector<int> memberships;  // the groups must still be joined (IGMP)
  bool unused = false;
  for (const auto& l : o.lines)
    memberships.push_back(fh::daemon::joinGroup(o.interface, l, false, false, 0, 0, unused));
  std::fprintf(stderr, "raw_receiver: AF_XDP on %s queue 0, %s XDP, %s\n", o.interface.c_str(), fh::xsk::name(mode),
               socket.zeroCopy() ? "zero-copy" : "copy mode");
  run(
      o, arbiter,
      [&] {
        const int64_t now = realtimeNs();
        return socket.receive(64, [&](const uint8_t* data, uint32_t length) {
          fh::capture::UdpDatagram d;
          const fh::capture::Frame frame{0, uint32_t(fh::capture::LinkType::Ethernet), {data, length}};
          if (fh::capture::parseUdp(frame, d) == fh::capture::SkipReason::None) arbiter.packet(d.payload, now);
        });
      },
      [&] { socket.wait(100); });
  for (int fd : memberships) ::close(fd);
}

void receiveUdp(const Options& o, Arbiter& arbiter) {
  std::vector<int> fds;
  bool unused = false;
  for (const auto& l : o.lines) fds.push_back(fh::daemon::joinGroup(o.interface, l, true, false, 0, 0, unused));
  constexpr unsigned kBatch = 64;
  std::vector<uint8_t> buffers(kBatch * 2048);
  mmsghdr msgs[kBatch];
  iovec iovs[kBatch];
  std::vector<pollfd> pfds;
  for (int fd : fds) pfds.push_back({fd, POLLIN, 0});
  run(
      o, arbiter,
      [&] {
        int got = 0;
        for (int fd : fds) {
          for (unsigned i = 0; i < kBatch; ++i) {
            iovs[i] = {buffers.data() + i * 2048, 2048};
            msgs[i] = {};
            msgs[i].msg_hdr.msg_iov = &iovs[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
          }
          const int n = ::recvmmsg(fd, msgs, kBatch, MSG_DONTWAIT, nullptr);
          if (n <= 0) continue;
          const int64_t now = realtimeNs();
          for (int i = 0; i < n; ++i) arbiter.packet({buffers.data() + i * 2048, msgs[i].msg_len}, now);
          got += n;
        }
        return got;
      },
      [&] { ::poll(pfds.data(), pfds.size(), 100); });
  for (int fd : fds) ::close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  pin(o.cpu);
  Arbiter arbiter(easternMidnight());
  try {
    if (o.mode == "xdp")
      receiveXdp(o, arbiter);
    else
      receiveUdp(o, arbiter);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "raw_receiver: %s\n", e.what());
    return 1;
  }
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  std::vector<int64_t> d = arbiter.delays();
  if (d.empty()) {
    std::fprintf(stderr, "raw_receiver: no stamped message came\n");
    return 1;
  }
  std::sort(d.begin(), d.end());
  const auto at = [&](double p) { return d[std::min(d.size() - 1, size_t(p / 100 * double(d.size())))]; };
  std::string cdf;  // the delays at 0, 1, ..., 100 %
  for (int q = 0; q <= 100; ++q) {
    if (q > 0) cdf += ',';
    cdf += std::to_string(q == 100 ? d.back() : at(q));
  }
  const auto ms = [](const timeval& t, const timeval& since) {
    return double(t.tv_sec - since.tv_sec) * 1e3 + double(t.tv_usec - since.tv_usec) / 1e3;
  };
  std::printf(
      "{\"messages\":%zu,\"p50_ns\":%lld,\"p99_ns\":%lld,\"p999_ns\":%lld,\"max_ns\":%lld,\"lost\":%llu,"
      "\"user_ms\":%.1f,\"sys_ms\":%.1f,\"ended\":%s,\"cdf_ns\":[%s]}\n",
      d.size(), (long long)at(50), (long long)at(99), (long long)at(99.9), (long long)d.back(),
      (unsigned long long)arbiter.lost(), ms(ru.ru_utime, cpuAtFirstPacket.ru_utime),
      ms(ru.ru_stime, cpuAtFirstPacket.ru_stime), arbiter.ended() ? "true" : "false", cdf.c_str());
  return 0;
}
