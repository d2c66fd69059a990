#include "publish.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

#include "capture/capture.h"
#include "feed/file_source.h"
#include "mold/moldudp64.h"
#include "record/record.h"
#include "util/bytes.h"

namespace fh::sim {

namespace {

constexpr uint32_t kIpUdpHeaders = 28;
constexpr uint32_t kMaxMtu = 65'535;
constexpr uint64_t kSecond = 1'000'000'000;

[[noreturn]] void badOption(const std::string& option, const std::string& value, const std::string& why) {
  throw std::invalid_argument(option + " " + value + ": " + why);
}

std::runtime_error systemError(const std::string& what) {
  return std::runtime_error(what + ": " + std::strerror(errno));
}

// Host byte order; nullopt when `text` is not a dotted IPv4 address.
std::optional<uint32_t> parseIpv4(const std::string& text) {
  in_addr a{};
  if (::inet_pton(AF_INET, text.c_str(), &a) != 1) return std::nullopt;
  return ntohl(a.s_addr);
}

std::string formatIpv4(uint32_t address) {
  char text[INET_ADDRSTRLEN];
  const in_addr a{htonl(address)};
  ::inet_ntop(AF_INET, &a, text, sizeof text);
  return text;
}

bool inPrefix(uint32_t address, uint32_t prefix, unsigned bits) { return (address ^ prefix) >> (32 - bits) == 0; }

constexpr uint32_t kTestGroups = 239u << 24;                 // 239.0.0.0/8
constexpr uint32_t kTestHosts = (198u << 24) | (18u << 16);  // 198.18.0.0/15

uint32_t checkGroup(const std::string& option, const std::string& text) {
  const auto address = parseIpv4(text);
  if (!address) badOption(option, "'" + text + "'", "not an IPv4 address");
  if (!inPrefix(*address, kTestGroups, 8))
    badOption(option, text, "refused: multicast groups must be in 239.0.0.0/8 (the test network's rule)");
  return *address;
}

struct Interface {
  std::string name;
  unsigned index = 0;
  uint32_t address = 0;  // its first IPv4 address, 0 when it has none
};

// `text` is an interface name or one of an interface's IPv4 addresses.
Interface resolveInterface(const std::string& text) {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) throw systemError("--interface " + text + ": cannot list interfaces");
  const auto byAddress = parseIpv4(text);
  Interface found;
  for (const ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    const bool ipv4 = i->ifa_addr != nullptr && i->ifa_addr->sa_family == AF_INET;
    const uint32_t address = ipv4 ? ntohl(reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr.s_addr) : 0;
    const bool match = byAddress ? ipv4 && address == *byAddress : text == i->ifa_name;
    if (!match) continue;
    if (found.name.empty()) found.name = i->ifa_name;
    if (ipv4 && found.address == 0 && found.name == i->ifa_name) found.address = address;
  }
  ::freeifaddrs(list);
  if (found.name.empty())
    badOption("--interface", text, byAddress ? "no interface has this address" : "no such interface");
  found.index = ::if_nametoindex(found.name.c_str());
  if (found.index == 0) badOption("--interface", text, "no such interface");
  return found;
}

uint64_t monotonicNs() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * kSecond + static_cast<uint64_t>(ts.tv_nsec);
}

uint64_t realtimeNs() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * kSecond + static_cast<uint64_t>(ts.tv_nsec);
}

void sleepUntil(uint64_t monotonic) {
  const timespec ts{static_cast<time_t>(monotonic / kSecond), static_cast<long>(monotonic % kSecond)};
  while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

uint16_t ipChecksum(const uint8_t* p, size_t length, uint32_t sum = 0) {
  for (size_t i = 0; i + 1 < length; i += 2) sum += loadBe16(p + i);
  if (length % 2 != 0) sum += uint32_t{p[length - 1]} << 8;
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// Line A's packets as Ethernet/IPv4/UDP frames in a nanosecond pcap.
class PcapWriter {
 public:
  PcapWriter(const std::string& path, uint32_t source, uint32_t ttl) : path_(path), source_(source), ttl_(ttl) {
    file_ = std::fopen(path.c_str(), "wb");
    if (file_ == nullptr) throw systemError("--dry-run-pcap " + path + ": cannot create");
    uint8_t header[24]{};  // nanosecond magic, version 2.4, snaplen, Ethernet; host byte order
    const uint32_t magic = 0xA1B23C4D, snaplen = 65'535, linkType = 1;
    const uint16_t version[2] = {2, 4};
    std::memcpy(header, &magic, 4);
    std::memcpy(header + 4, version, 4);
    std::memcpy(header + 16, &snaplen, 4);
    std::memcpy(header + 20, &linkType, 4);
    write(header, sizeof header);
  }
  ~PcapWriter() {
    if (file_ != nullptr) std::fclose(file_);
  }
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  // A frame received at `timeNs` (CLOCK_REALTIME).
  void frame(uint32_t group, uint16_t port, std::span<const uint8_t> payload, uint64_t timeNs) {
    frame_.assign(42 + payload.size(), 0);
    uint8_t* e = frame_.data();
    const uint8_t mac[6] = {0x01,
                            0x00,
                            0x5E,
                            static_cast<uint8_t>((group >> 16) & 0x7F),
                            static_cast<uint8_t>(group >> 8),
                            static_cast<uint8_t>(group)};
    std::memcpy(e, mac, 6);
    const uint8_t sourceMac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};  // locally administered
    std::memcpy(e + 6, sourceMac, 6);
    storeBe16(e + 12, 0x0800);
    uint8_t* ip = e + 14;
    ip[0] = 0x45;
    storeBe16(ip + 2, static_cast<uint16_t>(28 + payload.size()));
    storeBe16(ip + 4, ipId_++);
    ip[8] = static_cast<uint8_t>(ttl_);
    ip[9] = 17;
    storeBe32(ip + 12, source_);
    storeBe32(ip + 16, group);
    storeBe16(ip + 10, ipChecksum(ip, 20));
    uint8_t* udp = ip + 20;
    const uint16_t udpLength = static_cast<uint16_t>(8 + payload.size());
    storeBe16(udp, port);  // the source port of a dry run is the destination port
    storeBe16(udp + 2, port);
    storeBe16(udp + 4, udpLength);
    if (!payload.empty()) std::memcpy(udp + 8, payload.data(), payload.size());
    uint8_t pseudo[12];
    storeBe32(pseudo, source_);
    storeBe32(pseudo + 4, group);
    pseudo[8] = 0;
    pseudo[9] = 17;
    storeBe16(pseudo + 10, udpLength);
    uint32_t sum = 0;
    for (size_t i = 0; i < sizeof pseudo; i += 2) sum += loadBe16(pseudo + i);
    uint16_t check = ipChecksum(udp, udpLength, sum);
    storeBe16(udp + 6, check == 0 ? 0xFFFF : check);

    const uint32_t record[4] = {static_cast<uint32_t>(timeNs / kSecond), static_cast<uint32_t>(timeNs % kSecond),
                                static_cast<uint32_t>(frame_.size()), static_cast<uint32_t>(frame_.size())};
    write(record, sizeof record);
    write(frame_.data(), frame_.size());
  }

  void close() {
    FILE* f = file_;
    file_ = nullptr;
    if (std::fclose(f) != 0) throw systemError("--dry-run-pcap " + path_ + ": cannot write");
  }

 private:
  void write(const void* p, size_t n) {
    if (std::fwrite(p, 1, n, file_) != n) throw systemError("--dry-run-pcap " + path_ + ": cannot write");
  }

  std::string path_;
  uint32_t source_;
  uint32_t ttl_;
  FILE* file_ = nullptr;
  std::vector<uint8_t> frame_;
  uint16_t ipId_ = 1;
};

class Socket {
 public:
  Socket(const PublishOptions& o, const Interface& itf, std::optional<uint32_t> source) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw systemError("cannot create a UDP socket");
    ip_mreqn multicastIf{};
    multicastIf.imr_address.s_addr = htonl(itf.address);
    multicastIf.imr_ifindex = static_cast<int>(itf.index);
    if (::setsockopt(fd_, IPPROTO_IP, IP_MULTICAST_IF, &multicastIf, sizeof multicastIf) != 0)
      fail("--interface " + o.interface + ": IP_MULTICAST_IF");
    const int ttl = static_cast<int>(o.ttl);
    if (::setsockopt(fd_, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl) != 0) fail("--ttl: IP_MULTICAST_TTL");
    const int loop = o.loop ? 1 : 0;
    if (::setsockopt(fd_, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop) != 0) fail("--loop: IP_MULTICAST_LOOP");
    if (source) {
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(*source);
      if (::bind(fd_, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0)
        fail("--source " + o.source + ": cannot bind");
    }
  }
  ~Socket() { ::close(fd_); }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  void send(uint32_t group, uint16_t port, std::span<const uint8_t> payload) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(group);
    to.sin_port = htons(port);
    const uint64_t giveUp = monotonicNs() + kSecond;
    for (;;) {
      const ssize_t n =
          ::sendto(fd_, payload.data(), payload.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
      if (n >= 0) return;
      if (errno == EINTR) continue;
      // A full queue drains on its own; wait a little rather than lose the packet.
      if ((errno == ENOBUFS || errno == EAGAIN) && monotonicNs() < giveUp) {
        sleepUntil(monotonicNs() + 20'000);
        continue;
      }
      throw systemError("sendto " + formatIpv4(group) + ":" + std::to_string(port));
    }
  }

 private:
  [[noreturn]] void fail(const std::string& what) {
    const auto e = systemError(what);
    ::close(fd_);
    throw e;
  }
  int fd_ = -1;
};

struct Line {
  uint32_t group = 0;
  uint16_t port = 0;
  LineSummary summary;
};

class Publisher {
 public:
  Publisher(const PublishOptions& o, PublishSummary& summary)
      : o_(o),
        summary_(summary),
        buffer_(o.mtu - kIpUdpHeaders),
        next_(o.firstSequence),
        builder_(buffer_, o.session, next_) {
    a_.group = checkGroup("--group-a", o.lineA.group);
    a_.port = o.lineA.port;
    if (o.lineB) {
      b_.group = checkGroup("--group-b", o.lineB->group);
      b_.port = o.lineB->port;
    }
    std::optional<uint32_t> source;
    if (!o.source.empty()) source = parseIpv4(o.source);
    Interface itf;
    if (!o.interface.empty()) itf = resolveInterface(o.interface);
    if (o.dryRunPcap.empty()) {
      socket_.emplace(o, itf, source);
    } else {
      pcap_.emplace(o.dryRunPcap, source ? *source : itf.address, o.ttl);
    }
    if (!o.rerequest.listen.empty())
      server_ = std::make_unique<RerequestServer>(o.rerequest, o.session, o.firstSequence, o.mtu - kIpUdpHeaders);
    if (!o.glimpse.listen.empty()) {
      glimpse_ = std::make_unique<GlimpseServer>(o.glimpse, o.session);
      glimpse_->record({}, 0, o.firstSequence);
    }
    summary_.firstSequence = o.firstSequence;
    if (o.rate > 0) batch_ = std::max<uint64_t>(1, o.rate / 1000);
    start_ = monotonicNs();
    dryRunNs_ = start_;
    dryRunRealtimeOffset_ = realtimeNs() - start_;
  }

  void message(std::span<const uint8_t> message) {
    if (!builder_.add(message)) {
      flushPacket();
      if (!builder_.add(message))
        badOption("--mtu", std::to_string(o_.mtu),
                  "message " + std::to_string(summary_.messages + 1) + " of " + std::to_string(message.size()) +
                      " bytes does not fit in a packet");
    }
    ++summary_.messages;
    if (builder_.count() == o_.messagesPerPacket) flushPacket();
  }

  void finish() {
    flushPacket();
    if (held_) {
      sendA(*held_, heldMessages_);
      held_.reset();
    }
    summary_.lastSequence = next_ - 1;
    for (uint32_t i = 0; i < o_.heartbeats; ++i) control(false);
    for (uint32_t i = 0; i < o_.endOfSessionRepeats; ++i) control(true);
    while (!delayed_.empty()) waitUntil(delayed_.front().due, false);
    if (pcap_) pcap_->close();
    if (server_ && glimpse_) {  // both linger at once
      std::thread other([this] { glimpse_->finish(); });
      server_->finish();
      other.join();
    } else if (server_) {
      server_->finish();
    } else if (glimpse_) {
      glimpse_->finish();
    }
    if (server_) summary_.rerequest = server_->summary();
    if (glimpse_) summary_.glimpse = glimpse_->summary();
    summary_.seconds = static_cast<double>(monotonicNs() - start_) / kSecond;
    summary_.lineA = a_.summary;
    if (o_.lineB) summary_.lineB = b_.summary;
  }

 private:
  struct Delayed {
    uint64_t due;
    std::vector<uint8_t> packet;
    uint16_t messages;
  };

  void flushPacket() {
    if (builder_.count() == 0) return;
    const uint16_t count = builder_.count();
    const std::span<const uint8_t> packet = builder_.finish();
    const uint64_t number = ++summary_.dataPackets;
    pace();
    if (o_.stamp) stamp(packet);
    if (server_) server_->record(packet.subspan(mold::kHeaderLength), count);
    if (glimpse_) glimpse_->record(packet.subspan(mold::kHeaderLength), count, next_ + count);
    scheduled_ += count;

    const bool both = every(o_.dropBoth, number) || o_.burstBoth.contains(number);
    // Each line's draws come from its own generator: one line's options do not move the other's faults.
    const bool dropA = both || every(o_.dropA, number) || o_.silenceA.contains(number) || chance(rngA_, o_.lossA);
    const bool dropB = both || every(o_.dropB, number) || o_.silenceB.contains(number) || chance(rngB_, o_.lossB);
    const bool twiceA = !dropA && chance(rngA_, o_.duplicateA);
    const bool twiceB = !dropB && chance(rngB_, o_.duplicateB);
    const bool first = number % 2 == 1;
    const bool swap = o_.reorderA != 0 && ((number + 1) / 2) % o_.reorderA == 0;
    if (dropA) {
      ++a_.summary.dropped;
    } else if (swap && first) {
      held_.emplace(packet.begin(), packet.end());
      heldMessages_ = count;
    } else {
      sendA(packet, count);
      if (twiceA) {
        sendA(packet, count);
        ++a_.summary.duplicated;
      }
    }
    if (held_ && !first) {
      sendA(*held_, heldMessages_);
      held_.reset();
    }
    if (o_.lineB) {
      if (dropB)
        ++b_.summary.dropped;
      else
        sendB(packet, count);
      if (twiceB) {
        sendB(packet, count);
        ++b_.summary.duplicated;
      }
    }
    packetSent();
    next_ += count;
    builder_ = mold::PacketBuilder(buffer_, o_.session, next_);
  }

  // Heartbeat or End of Session: the next sequence number, no messages.
  void control(bool endOfSession) {
    mold::PacketBuilder b(buffer_, o_.session, next_);
    const std::span<const uint8_t> packet = b.finish(endOfSession);
    serviceDelayed();
    sendA(packet, 0);
    if (o_.lineB) sendB(packet, 0);
    packetSent();
  }

  // Each message's 6-byte timestamp (offset 5) becomes now, New York time of day.
  void stamp(std::span<const uint8_t> packet) {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    if (pcap_) {  // a dry run: its own clock, the capture's times
      const uint64_t virtualNow = dryRunNs_ + dryRunRealtimeOffset_;
      ts = {time_t(virtualNow / kSecond), long(virtualNow % kSecond)};
    }
    const int64_t now = int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
    if (midnight_ == 0 || now - midnight_ >= 86'400'000'000'000 || now < midnight_) {
      tm utc{};
      const time_t secs = ts.tv_sec;
      gmtime_r(&secs, &utc);
      midnight_ = record::easternMidnightNs(utc.tm_year + 1900, unsigned(utc.tm_mon + 1), unsigned(utc.tm_mday));
      if (now < midnight_) midnight_ -= 86'400'000'000'000;
    }
    const uint64_t timeOfDay = uint64_t(now - midnight_);
    uint8_t* p = buffer_.data() + mold::kHeaderLength;
    uint8_t* const end = buffer_.data() + packet.size();
    while (p + 2 <= end) {
      const uint16_t length = loadBe16(p);
      if (length >= 11 && p + 2 + length <= end)
        for (int i = 0; i < 6; ++i) p[2 + 5 + i] = uint8_t(timeOfDay >> (40 - 8 * i));
      p += 2 + length;
    }
  }

  static bool every(uint32_t n, uint64_t number) { return n != 0 && number % n == 0; }
  // True with `percent` chance; draws nothing when the fault is off.
  static bool chance(std::mt19937_64& rng, double percent) {
    return percent > 0 && std::uniform_real_distribution<double>(0, 100)(rng) < percent;
  }

  void sendA(std::span<const uint8_t> packet, uint16_t messages) {
    if (pcap_)
      dryRunFrame(a_, packet);
    else
      socket_->send(a_.group, a_.port, packet);
    count(a_, packet, messages);
  }

  void sendB(std::span<const uint8_t> packet, uint16_t messages) {
    if (o_.bDelayUs == 0) {
      transmitB(packet, messages);
      return;
    }
    delayed_.push_back(Delayed{now() + uint64_t{o_.bDelayUs} * 1000, {packet.begin(), packet.end()}, messages});
  }

  void transmitB(std::span<const uint8_t> packet, uint16_t messages) {
    if (socket_)
      socket_->send(b_.group, b_.port, packet);
    else if (o_.dryRunBothLines)
      dryRunFrame(b_, packet);
    count(b_, packet, messages);
  }

  static void count(Line& line, std::span<const uint8_t> packet, uint16_t messages) {
    ++line.summary.packets;
    line.summary.messages += messages;
    line.summary.bytes += packet.size();
  }

  // A dry run keeps time by its schedule, not by the clock: each packet takes
  // kDryRunPacketNs (on both lines at once), a wait ends at its due time. So the same options write the
  // same capture however the machine runs fhsim (only the day's start differs):
  // a preemption cannot move line B's delayed copies, or stretch a hole past a
  // handler's gap timeout. With --rate the waits are slept too, so servers
  // beside the dry run see the day go by at its pace.
  static constexpr uint64_t kDryRunPacketNs = 1'000;

  uint64_t now() const { return pcap_ ? dryRunNs_ : monotonicNs(); }

  void dryRunFrame(const Line& line, std::span<const uint8_t> packet) {
    pcap_->frame(line.group, line.port, packet, dryRunNs_ + dryRunRealtimeOffset_);
  }

  void packetSent() {
    if (pcap_) dryRunNs_ += kDryRunPacketNs;
  }

  void serviceDelayed() {
    if (delayed_.empty()) return;
    const uint64_t now = this->now();
    while (!delayed_.empty() && delayed_.front().due <= now) {
      transmitB(delayed_.front().packet, delayed_.front().messages);
      delayed_.pop_front();
    }
  }

  // Sleeps until `due`, sending line B's delayed packets as they fall due.
  // In a dry run `sleep` says whether the wait is also slept (a wait of the
  // schedule, not of a B copy's delay: the two clocks part above a packet a µs).
  void waitUntil(uint64_t due, bool sleep = true) {
    if (pcap_) {
      while (!delayed_.empty() && delayed_.front().due <= due) {
        dryRunNs_ = std::max(dryRunNs_, delayed_.front().due);
        serviceDelayed();
      }
      dryRunNs_ = std::max(dryRunNs_, due);
      if (o_.rate > 0 && sleep) sleepUntil(due);
      return;
    }
    for (;;) {
      serviceDelayed();
      const uint64_t wake = delayed_.empty() ? due : std::min(due, delayed_.front().due);
      if (monotonicNs() >= due) return;
      sleepUntil(wake);
    }
  }

  // The clock is read once per batch of about a millisecond's messages; a
  // packet is sent when the messages before it are due.
  void pace() {
    if (o_.rate == 0 || pcap_) serviceDelayed();  // a dry run's B copies to the packet, whatever the rate
    if (o_.rate == 0) return;
    if (scheduled_ < nextCheck_) return;
    nextCheck_ = scheduled_ + batch_;
    const uint64_t due = start_ + scheduled_ / o_.rate * kSecond + scheduled_ % o_.rate * kSecond / o_.rate;
    waitUntil(due);
  }

  const PublishOptions& o_;
  PublishSummary& summary_;
  std::vector<uint8_t> buffer_;
  int64_t midnight_ = 0;
  uint64_t next_;
  mold::PacketBuilder builder_;
  Line a_, b_;
  std::optional<Socket> socket_;
  std::optional<PcapWriter> pcap_;
  std::optional<std::vector<uint8_t>> held_;
  uint16_t heldMessages_ = 0;
  std::deque<Delayed> delayed_;
  uint64_t start_ = 0;
  uint64_t dryRunNs_ = 0;              // a dry run's clock (CLOCK_MONOTONIC's origin)
  uint64_t dryRunRealtimeOffset_ = 0;  // from it to the capture's CLOCK_REALTIME
  uint64_t scheduled_ = 0;             // messages of the packets already paced
  uint64_t nextCheck_ = 0;
  uint64_t batch_ = 1;
  std::mt19937_64 rngA_{o_.faultSeed};
  std::mt19937_64 rngB_{o_.faultSeed ^ 0x9E3779B97F4A7C15ull};
  std::unique_ptr<RerequestServer> server_;
  std::unique_ptr<GlimpseServer> glimpse_;
};

struct Feeder {
  Publisher& publisher;
  PublishSummary& summary;
  void message(const feed::MessageMeta&, const uint8_t* msg, uint16_t length) { publisher.message({msg, length}); }
  void malformedPacket(uint64_t, const mold::PacketResult&) { ++summary.malformedInputPackets; }
};

// The synthetic day in an anonymous memory file, mapped like a file on disk.
std::unique_ptr<capture::MappedFile> generateInMemory(const GeneratorOptions& options) {
  const int fd = ::memfd_create("fhsim-day", MFD_CLOEXEC);
  if (fd < 0) throw systemError("--generate: cannot create a memory file");
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  try {
    generate(options, path);
    auto mapped = std::make_unique<capture::MappedFile>(path);
    ::close(fd);
    return mapped;
  } catch (...) {
    ::close(fd);
    throw;
  }
}

}  // namespace

void validate(const PublishOptions& o) {
  if (o.file.empty() == !o.generate.has_value())
    throw std::invalid_argument("give one input: --file FILE or --generate N");
  if (o.generate) {
    if (o.generate->symbols < 1 || o.generate->symbols > 65'000)
      badOption("--symbols", std::to_string(o.generate->symbols), "must be from 1 to 65000");
    if (o.generate->messages < minimumMessages(o.generate->symbols))
      badOption("--generate", std::to_string(o.generate->messages),
                "too few for --symbols " + std::to_string(o.generate->symbols) + ": a day needs at least " +
                    std::to_string(minimumMessages(o.generate->symbols)));
  }
  if (o.session.empty() || o.session.size() > mold::kSessionLength)
    badOption("--session", "'" + o.session + "'", "must be 1 to 10 characters");
  for (const char c : o.session)
    if (c < 0x20 || c > 0x7E) badOption("--session", "'" + o.session + "'", "must be printable ASCII");
  if (o.firstSequence == 0) badOption("--first-seq", "0", "MoldUDP64 sequence numbers start at 1");
  if (o.mtu < kIpUdpHeaders + mold::kHeaderLength + 2 + 1 || o.mtu > kMaxMtu)
    badOption("--mtu", std::to_string(o.mtu), "must be from 51 to 65535");
  if (o.messagesPerPacket > mold::kEndOfSessionCount - 1)
    badOption("--messages-per-packet", std::to_string(o.messagesPerPacket), "must be at most 65534");
  checkGroup("--group-a", o.lineA.group);
  if (o.lineA.port == 0) badOption("--port-a", "0", "must be a port from 1 to 65535");
  if (o.lineB) {
    checkGroup("--group-b", o.lineB->group);
    if (o.lineB->port == 0) badOption("--port-b", "0", "must be a port from 1 to 65535");
    if (o.lineB->group == o.lineA.group && o.lineB->port == o.lineA.port)
      badOption("--group-b", o.lineB->group + ":" + std::to_string(o.lineB->port), "is line A's address too");
  } else {
    if (o.bDelayUs != 0) badOption("--b-delay-us", std::to_string(o.bDelayUs), "needs line B (--group-b)");
    if (o.dropB != 0) badOption("--drop-b", std::to_string(o.dropB), "needs line B (--group-b)");
  }
  if (!o.source.empty()) {
    const auto source = parseIpv4(o.source);
    if (!source) badOption("--source", "'" + o.source + "'", "not an IPv4 address");
    if (!inPrefix(*source, kTestHosts, 15))
      badOption("--source", o.source, "refused: hosts must be in 198.18.0.0/15 (the test network's rule)");
  }
  for (const auto& [name, value] : {std::pair<const char*, double>{"--loss-a", o.lossA},
                                    {"--loss-b", o.lossB},
                                    {"--duplicate-a", o.duplicateA},
                                    {"--duplicate-b", o.duplicateB}})
    if (!(value >= 0 && value <= 100)) badOption(name, std::to_string(value), "must be a percentage from 0 to 100");
  if (!o.lineB) {
    if (o.lossB != 0 || o.duplicateB != 0 || o.silenceB.count != 0)
      throw std::invalid_argument("--loss-b, --duplicate-b and --silence-b need line B (--group-b)");
  }
  if (o.rate > kSecond) badOption("--rate", std::to_string(o.rate), "must be at most 1e9 messages per second");
  if (o.ttl < 1 || o.ttl > 255) badOption("--ttl", std::to_string(o.ttl), "must be from 1 to 255");
  if (o.dryRunBothLines && (o.dryRunPcap.empty() || !o.lineB))
    throw std::invalid_argument("--dry-run-both-lines needs --dry-run-pcap and line B (--group-b)");
  if (o.interface.empty() && o.dryRunPcap.empty())
    throw std::invalid_argument("--interface is required to send (or --dry-run-pcap OUT to write a pcap)");
}

PublishSummary publish(const PublishOptions& o) {
  validate(o);
  std::unique_ptr<capture::MappedFile> input;
  if (o.generate) {
    input = generateInMemory(*o.generate);
  } else {
    try {
      input = std::make_unique<capture::MappedFile>(o.file);
    } catch (const std::exception& e) {
      throw std::runtime_error(std::string("--file: ") + e.what());
    }
  }
  PublishSummary summary;
  Publisher publisher(o, summary);
  Feeder feeder{publisher, summary};
  feed::FileSourceCounters counters;
  const feed::FileSourceResult result =
      feed::replayFile(input->bytes(), feed::FileSourceOptions{o.filePort}, counters, feeder);
  if (!result.ok()) throw std::runtime_error("--file " + result.describe(o.file));
  publisher.finish();
  return summary;
}

std::string describe(const PublishOptions& o, const PublishSummary& s) {
  std::string text;
  char line[512];
  std::snprintf(line, sizeof line,
                "fhsim publish: %llu messages in %llu packets, sequence %llu to %llu, session %s, %.3f s\n",
                static_cast<unsigned long long>(s.messages), static_cast<unsigned long long>(s.dataPackets),
                static_cast<unsigned long long>(s.firstSequence), static_cast<unsigned long long>(s.lastSequence),
                o.session.c_str(), s.seconds);
  text += line;
  const auto describeLine = [&](const char* name, const LineAddress& address, const LineSummary& l, bool written) {
    std::snprintf(line, sizeof line, "line %s %s:%u: %llu packets, %llu messages, %llu dropped, %llu bytes%s\n", name,
                  address.group.c_str(), address.port, static_cast<unsigned long long>(l.packets),
                  static_cast<unsigned long long>(l.messages), static_cast<unsigned long long>(l.dropped),
                  static_cast<unsigned long long>(l.bytes), written ? "" : " (dry run: not written)");
    text += line;
  };
  describeLine("A", o.lineA, s.lineA, true);
  if (s.lineB) describeLine("B", *o.lineB, *s.lineB, o.dryRunPcap.empty() || o.dryRunBothLines);
  if (!o.dryRunPcap.empty())
    text += std::string("dry run: ") + (o.dryRunBothLines && o.lineB ? "lines A and B" : "line A") + " written to " +
            o.dryRunPcap + "\n";
  if (s.lineA.duplicated > 0 || (s.lineB && s.lineB->duplicated > 0))
    text += "duplicated: " + std::to_string(s.lineA.duplicated) + " packets on A, " +
            std::to_string(s.lineB ? s.lineB->duplicated : 0) + " on B\n";
  if (s.rerequest) {
    const RerequestSummary& r = *s.rerequest;
    std::snprintf(line, sizeof line,
                  "re-request server %s: %llu requests, %llu answered with %llu messages; unanswered: %llu "
                  "stopped, %llu forgotten, %llu rate-limited, %llu beyond the end; %llu of another session, %llu "
                  "malformed\n",
                  o.rerequest.listen.c_str(), (unsigned long long)r.requests, (unsigned long long)r.answered,
                  (unsigned long long)r.messagesResent, (unsigned long long)r.stopped, (unsigned long long)r.forgotten,
                  (unsigned long long)r.rateLimited, (unsigned long long)r.beyondEnd,
                  (unsigned long long)r.wrongSession, (unsigned long long)r.malformed);
    text += line;
  }
  if (s.glimpse) {
    const GlimpseSummary& g = *s.glimpse;
    std::snprintf(line, sizeof line,
                  "GLIMPSE server %s: %llu logins, %llu rejected; %llu snapshots served (%llu orders, the last one "
                  "ending at sequence %llu), %llu cut off, %llu stalled; %llu clients dropped\n",
                  o.glimpse.listen.c_str(), (unsigned long long)g.logins, (unsigned long long)g.rejected,
                  (unsigned long long)g.served, (unsigned long long)g.ordersSent,
                  (unsigned long long)g.lastSnapshotSequence, (unsigned long long)g.cutOff,
                  (unsigned long long)g.stalled, (unsigned long long)g.dropped);
    text += line;
  }
  if (s.malformedInputPackets > 0)
    text += "skipped " + std::to_string(s.malformedInputPackets) + " malformed packets of the input\n";
  return text;
}

}  // namespace fh::sim
