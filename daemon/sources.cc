#include "sources.h"

#include "util/busy_poll.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace fh::daemon {

namespace {

std::runtime_error systemError(const std::string& what) {
  return std::runtime_error(what + ": " + std::strerror(errno));
}

uint32_t interfaceAddress(int fd, const std::string& interface) {
  ifreq req{};
  std::snprintf(req.ifr_name, sizeof req.ifr_name, "%s", interface.c_str());
  if (::ioctl(fd, SIOCGIFADDR, &req) != 0) throw systemError("interface " + interface + " has no IPv4 address");
  return ntohl(reinterpret_cast<sockaddr_in*>(&req.ifr_addr)->sin_addr.s_addr);
}

}  // namespace

int joinGroup(const std::string& interface, const Line& line, bool bindToGroup, bool busyPoll, uint32_t busyPollUs,
              uint32_t busyPollBudget, bool& busyPolling) {
  const std::string what = formatIpv4(line.group) + ":" + std::to_string(line.port) + " on " + interface;
  const unsigned ifindex = if_nametoindex(interface.c_str());
  if (ifindex == 0) throw systemError("interface " + interface);
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw systemError("socket for " + what);
  const auto fail = [&](const std::string& step) {
    const std::runtime_error e = systemError(step + " for " + what);
    ::close(fd);
    throw e;
  };
  const int one = 1, zero = 0;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  // Only the groups this socket joined, not every group joined on the host.
  ::setsockopt(fd, IPPROTO_IP, IP_MULTICAST_ALL, &zero, sizeof zero);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = bindToGroup ? htonl(line.group) : htonl(INADDR_ANY);
  addr.sin_port = bindToGroup ? htons(line.port) : 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) fail("bind");
  if (line.source) {
    ip_mreq_source m{};
    m.imr_multiaddr.s_addr = htonl(line.group);
    m.imr_sourceaddr.s_addr = htonl(*line.source);
    m.imr_interface.s_addr = htonl(interfaceAddress(fd, interface));
    if (::setsockopt(fd, IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP, &m, sizeof m) != 0) fail("joining (source-specific)");
  } else {
    ip_mreqn m{};
    m.imr_multiaddr.s_addr = htonl(line.group);
    m.imr_ifindex = int(ifindex);
    if (::setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) != 0) fail("joining");
  }
  if (bindToGroup) {
    const int bytes = 16 << 20;
    if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0)
      ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
    if (busyPoll) busyPolling = enableBusyPoll(fd, busyPollUs, busyPollBudget);
    // Each datagram then says how many the socket dropped: loss the kernel saw.
    if (::setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one) != 0) fail("SO_RXQ_OVFL");
  }
  return fd;
}

UdpSource::UdpSource(const Feed& feed) : batch_(std::min(feed.batch, kMaxBatch)) {
  buffers_.resize(size_t{kMaxBatch} * kBufferBytes);
  messages_.resize(kMaxBatch);
  iovecs_.resize(kMaxBatch);
  addresses_.resize(kMaxBatch);
  control_.resize(size_t{kMaxBatch} * kControlBytes);
  for (uint32_t i = 0; i < kMaxBatch; ++i) {
    iovecs_[i] = {buffers_.data() + size_t{i} * kBufferBytes, kBufferBytes};
    messages_[i].msg_hdr.msg_iov = &iovecs_[i];
    messages_[i].msg_hdr.msg_iovlen = 1;
    messages_[i].msg_hdr.msg_name = &addresses_[i];
    messages_[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
    messages_[i].msg_hdr.msg_control = control_.data() + size_t{i} * kControlBytes;
  }
  const Line* lines[2] = {&feed.lineA, feed.lineB ? &*feed.lineB : nullptr};
  try {
    for (int l = 0; l < 2; ++l) {
      if (lines[l] == nullptr) continue;
      bool busy = false;
      const int fd =
          joinGroup(feed.interface, *lines[l], true, feed.busyPoll, feed.busyPollUs, feed.busyPollBudget, busy);
      sockets_.push_back({fd, l, lines[l]->source});
      busyPolling_ = l == 0 ? busy : busyPolling_ && busy;
    }
  } catch (...) {
    for (const LineSocket& s : sockets_) ::close(s.fd);
    throw;
  }
}

UdpSource::~UdpSource() {
  for (const LineSocket& s : sockets_) ::close(s.fd);
}

void UdpSource::wait(int timeoutMs, int extraFd) noexcept {
  pollfd fds[3];
  nfds_t n = 0;
  for (const LineSocket& s : sockets_) fds[n++] = {s.fd, POLLIN, 0};
  if (extraFd >= 0) fds[n++] = {extraFd, POLLIN, 0};
  ::poll(fds, n, timeoutMs);
}

XdpSource::XdpSource(const Feed& feed, const MemoryPolicy& memory) : mode_(xsk::XdpMode::Generic), batch_(feed.batch) {
  lines_[0] = feed.lineA;
  if (feed.lineB) {
    lines_[1] = *feed.lineB;
    lineCount_ = 2;
  }
  mode_ = steering_.attach(feed.interface, feed.xdpMode != XdpModeChoice::Generic);
  if (feed.xdpMode == XdpModeChoice::Native && mode_ != xsk::XdpMode::Native)
    throw std::runtime_error("feed.xdp_mode: native XDP is not possible on " + feed.interface);
  for (int l = 0; l < lineCount_; ++l) steering_.addLine(lines_[l].group, lines_[l].port, uint32_t(l), 0);
  try {
    for (const uint32_t queue : feed.queues) {
      xsk::SocketConfig c;
      c.interface = feed.interface;
      c.queue = queue;
      c.xdpMode = mode_;
      c.zeroCopy = feed.zeroCopy;
      c.busyPoll = feed.busyPoll;
      c.busyPollUs = feed.busyPollUs;
      c.busyPollBudget = feed.busyPollBudget;
      c.memory = memory;
      sockets_.push_back(std::make_unique<xsk::Socket>(c));
      steering_.setSocket(queue, sockets_.back()->fd());
      queues_.push_back(queue);
    }
    framesByQueue_.assign(sockets_.size(), 0);
    for (const auto& socket : sockets_) pollfds_.push_back({socket->fd(), POLLIN, 0});
    pollfds_.push_back({-1, POLLIN, 0});  // wait()'s extra descriptor
    // The kernel never sees the feed's packets, but switches must still be
    // told to send them: hold the memberships (IGMP) with sockets of our own.
    for (int l = 0; l < lineCount_; ++l) {
      bool unused = false;
      memberships_.push_back(joinGroup(feed.interface, lines_[l], false, false, 0, 0, unused));
    }
  } catch (...) {
    for (const int fd : memberships_) ::close(fd);
    throw;
  }
}

MemoryGrant XdpSource::memoryGrant() const {
  MemoryGrant g;
  for (const auto& socket : sockets_) g += socket->memoryGrant();
  return g;
}

XdpSource::~XdpSource() {
  steering_.detach();  // first: from now on the kernel gets the feed again
  for (const int fd : memberships_) ::close(fd);
}

bool XdpSource::zeroCopy() const noexcept {
  for (const auto& s : sockets_)
    if (!s->zeroCopy()) return false;
  return !sockets_.empty();
}

bool XdpSource::busyPolling() const noexcept {
  for (const auto& s : sockets_)
    if (!s->busyPolling()) return false;
  return !sockets_.empty();
}

xsk::SocketStats XdpSource::socketStats() const noexcept {
  xsk::SocketStats total;
  for (const auto& s : sockets_) {
    const xsk::SocketStats one = s->stats();
    total.rxDropped += one.rxDropped;
    total.rxInvalid += one.rxInvalid;
    total.rxRingFull += one.rxRingFull;
    total.fillRingEmpty += one.fillRingEmpty;
  }
  return total;
}

void XdpSource::wait(int timeoutMs, int extraFd) noexcept {
  pollfds_.back() = {extraFd, POLLIN, 0};  // a negative fd is ignored by poll()
  ::poll(pollfds_.data(), pollfds_.size(), timeoutMs);
}

}  // namespace fh::daemon
