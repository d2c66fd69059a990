// Where a feed's packets come from: kernel UDP sockets read with recvmmsg
// (the baseline and the fallback), or AF_XDP sockets fed by the XDP steering
// program (the kernel bypass). Both hand each feed datagram's UDP payload to
// onPacket(int line, std::span<const uint8_t>, uint64_t recvNs) on the worker
// thread, line 0 for A and 1 for B. Construction is control plane and throws
// with the key or interface at fault.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "capture/capture.h"
#include "config.h"
#include "shm/clock.h"
#include "xsk/socket.h"
#include "xsk/steering.h"

namespace fh::daemon {

// Counters of a source, copied into the region by the worker.
struct SourceCounters {
  uint64_t datagrams = 0;    // feed datagrams handed on
  uint64_t notALine = 0;     // AF_XDP frames that matched no line (should stay 0)
  uint64_t wrongSource = 0;  // datagrams from another sender than the line's source
  uint64_t truncated = 0;    // datagrams larger than the receive buffer
  uint64_t socketDrops = 0;  // UDP: datagrams the kernel dropped, its socket buffer full (SO_RXQ_OVFL)
  uint64_t badChecksum = 0;  // AF_XDP: feed frames whose IPv4 header checksum fails (the kernel would drop them)
};

// A socket joined to a group on an interface; with `bindToGroup` it also
// receives the group's datagrams on the line's port (the UDP source), else it
// only keeps the membership (IGMP) while AF_XDP takes the packets.
int joinGroup(const std::string& interface, const Line& line, bool bindToGroup, bool busyPoll, uint32_t busyPollUs,
              uint32_t busyPollBudget, bool& busyPolling);

class UdpSource {
 public:
  explicit UdpSource(const Feed& feed);
  ~UdpSource();
  UdpSource(const UdpSource&) = delete;
  UdpSource& operator=(const UdpSource&) = delete;

  template <class OnPacket>
  uint32_t receive(OnPacket&& onPacket);
  // Sleeps until a packet comes (or on `extraFd`, if not -1), at most timeoutMs.
  void wait(int timeoutMs, int extraFd = -1) noexcept;
  bool busyPolling() const noexcept { return busyPolling_; }
  const SourceCounters& counters() const noexcept { return counters_; }

 private:
  static constexpr uint32_t kMaxBatch = 64;
  static constexpr size_t kBufferBytes = 2048;
  struct LineSocket {
    int fd;
    int line;
    std::optional<uint32_t> source;
    uint32_t drops = 0;  // the kernel's count for this socket, from the latest datagram
  };
  static constexpr size_t kControlBytes = CMSG_SPACE(sizeof(uint32_t));
  std::vector<LineSocket> sockets_;
  uint32_t batch_;
  bool busyPolling_ = false;
  std::vector<uint8_t> buffers_;
  std::vector<mmsghdr> messages_;
  std::vector<iovec> iovecs_;
  std::vector<sockaddr_in> addresses_;
  std::vector<uint8_t> control_;  // room for each datagram's SO_RXQ_OVFL count
  SourceCounters counters_;
};

class XdpSource {
 public:
  // The UMEMs are placed as `memory` asks.
  XdpSource(const Feed& feed, const MemoryPolicy& memory);
  ~XdpSource();
  XdpSource(const XdpSource&) = delete;
  XdpSource& operator=(const XdpSource&) = delete;

  template <class OnPacket>
  uint32_t receive(OnPacket&& onPacket);
  void wait(int timeoutMs, int extraFd = -1) noexcept;

  xsk::XdpMode mode() const noexcept { return mode_; }
  bool zeroCopy() const noexcept;
  bool busyPolling() const noexcept;
  const SourceCounters& counters() const noexcept { return counters_; }
  // Safe from another thread: reads kernel statistics only.
  xsk::SteeringCounters steeringCounters() const { return steering_.counters(); }
  xsk::SocketStats socketStats() const noexcept;
  const std::vector<uint64_t>& framesByQueue() const noexcept { return framesByQueue_; }
  const std::vector<uint32_t>& queues() const noexcept { return queues_; }
  // What the kernel gave the UMEMs (at start: reads /proc).
  MemoryGrant memoryGrant() const;

 private:
  xsk::Steering steering_;
  xsk::XdpMode mode_;
  std::vector<std::unique_ptr<xsk::Socket>> sockets_;
  std::vector<uint32_t> queues_;
  std::vector<uint64_t> framesByQueue_;
  std::vector<int> memberships_;
  std::vector<pollfd> pollfds_;
  Line lines_[2];
  int lineCount_ = 1;
  uint32_t batch_;
  SourceCounters counters_;
};

template <class OnPacket>
uint32_t UdpSource::receive(OnPacket&& onPacket) {
  uint32_t total = 0;
  for (LineSocket& s : sockets_) {
    for (uint32_t i = 0; i < batch_; ++i) messages_[i].msg_hdr.msg_controllen = kControlBytes;
    const int n = ::recvmmsg(s.fd, messages_.data(), batch_, MSG_DONTWAIT, nullptr);
    if (n <= 0) continue;
    const uint64_t now = shm::realtimeNs();
    for (int i = 0; i < n; ++i) {
      mmsghdr& m = messages_[i];
      // The kernel's drop count since the socket was made, on each datagram.
      for (cmsghdr* c = CMSG_FIRSTHDR(&m.msg_hdr); c != nullptr; c = CMSG_NXTHDR(&m.msg_hdr, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
          uint32_t drops = 0;
          std::memcpy(&drops, CMSG_DATA(c), sizeof drops);
          if (drops > s.drops) {
            counters_.socketDrops += drops - s.drops;
            s.drops = drops;
          }
        }
      if (m.msg_hdr.msg_flags & MSG_TRUNC) {
        ++counters_.truncated;
        continue;
      }
      if (s.source && ntohl(addresses_[i].sin_addr.s_addr) != *s.source) {
        ++counters_.wrongSource;
        continue;
      }
      ++counters_.datagrams;
      onPacket(s.line, std::span<const uint8_t>(buffers_.data() + size_t(i) * kBufferBytes, m.msg_len), now);
    }
    total += uint32_t(n);
  }
  return total;
}

template <class OnPacket>
uint32_t XdpSource::receive(OnPacket&& onPacket) {
  uint32_t total = 0;
  for (size_t q = 0; q < sockets_.size(); ++q) {
    const uint64_t now = shm::realtimeNs();
    const uint32_t n = sockets_[q]->receive(batch_, [&](const uint8_t* data, uint32_t length) {
      capture::UdpDatagram udp{};
      const capture::Frame frame{now, uint32_t(capture::LinkType::Ethernet), {data, length}};
      if (capture::parseUdp(frame, udp) != capture::SkipReason::None) {
        ++counters_.notALine;
        return;
      }
      for (int line = 0; line < lineCount_; ++line) {
        const Line& l = lines_[line];
        if (udp.dstAddr != l.group || udp.dstPort != l.port) continue;
        if (l.source && udp.srcAddr != *l.source) {
          ++counters_.wrongSource;
          return;
        }
        if (!capture::ipv4ChecksumOk(udp.ipHeader)) {
          ++counters_.badChecksum;
          return;
        }
        ++counters_.datagrams;
        onPacket(line, udp.payload, now);
        return;
      }
      ++counters_.notALine;
    });
    framesByQueue_[q] += n;
    total += n;
  }
  return total;
}

}  // namespace fh::daemon
