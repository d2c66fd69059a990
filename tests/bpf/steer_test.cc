// Tier 2: the XDP steering program run by the kernel on crafted frames with
// bpf_prog_test_run_opts, case by case: the verdict, and exactly one count
// for the expected reason. Needs root. The redirect case runs in a network
// namespace of its own, with a real AF_XDP socket on its loopback.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "packet.h"
#include "xsk/socket.h"
#include "xsk/steering.h"

namespace {

using fh::test::Packet;

constexpr const char* kGroupA = "239.100.1.1";
constexpr const char* kGroupB = "239.100.1.2";
constexpr uint16_t kPortA = 26400, kPortB = 26401;

uint32_t ip(const char* text) {
  in_addr a{};
  ::inet_pton(AF_INET, text, &a);
  return ntohl(a.s_addr);
}

struct Outcome {
  uint32_t action;
  fh::xsk::SteeringCounters delta;
};

// Runs the program once on `frame`, as if received on `queue` of `ifindex`
// (0: no device context), and returns the verdict and the counters it moved.
Outcome runOnce(fh::xsk::Steering& s, const std::vector<uint8_t>& frame, uint32_t ifindex = 0, uint32_t queue = 0) {
  const fh::xsk::SteeringCounters before = s.counters();
  xdp_md ctx{};
  ctx.data_end = static_cast<uint32_t>(frame.size());
  ctx.ingress_ifindex = ifindex;
  ctx.rx_queue_index = queue;
  std::vector<uint8_t> out(frame.size() + 256);
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_out = out.data(),
              .data_size_in = static_cast<uint32_t>(frame.size()), .data_size_out = static_cast<uint32_t>(out.size()),
              .ctx_in = ifindex ? &ctx : nullptr, .ctx_size_in = ifindex ? static_cast<uint32_t>(sizeof ctx) : 0u,
              .repeat = 1);
  REQUIRE(bpf_prog_test_run_opts(s.programFd(), &opts) == 0);
  // Whatever the verdict, the frame is not changed.
  REQUIRE(opts.data_size_out == frame.size());
  CHECK(std::equal(frame.begin(), frame.end(), out.begin()));
  const fh::xsk::SteeringCounters after = s.counters();
  Outcome o{opts.retval, {}};
  for (size_t r = 0; r < FH_REASON_COUNT; ++r) {
    o.delta.byReason[r].packets = after.byReason[r].packets - before.byReason[r].packets;
    o.delta.byReason[r].bytes = after.byReason[r].bytes - before.byReason[r].bytes;
  }
  return o;
}

void expectOnly(const Outcome& o, fh_reason reason, size_t bytes) {
  for (uint32_t r = 0; r < FH_REASON_COUNT; ++r) {
    INFO("reason " << fh::xsk::reasonName(fh_reason(r)));
    CHECK(o.delta.byReason[r].packets == (r == reason ? 1u : 0u));
    CHECK(o.delta.byReason[r].bytes == (r == reason ? bytes : 0u));
  }
}

std::unique_ptr<fh::xsk::Steering> loaded() {
  REQUIRE(::geteuid() == 0);  // BPF program tests need root (CI runs as root)
  auto s = std::make_unique<fh::xsk::Steering>();
  s->addLine(ip(kGroupA), kPortA, 0, 0);
  s->addLine(ip(kGroupB), kPortB, 1, 0);
  return s;
}

}  // namespace

TEST_CASE("steer: every frame that is not a feed packet on a queue with a socket passes to the kernel", "[bpf]") {
  auto s = loaded();
  struct Case {
    const char* what;
    Packet packet;
    fh_reason reason;
  };
  const std::vector<Case> cases = {
      {"feed line A, no socket on the queue", Packet().ipv4("198.18.0.1", kGroupA).udp(5000, kPortA).payload(40),
       FH_PASS_NO_SOCKET},
      {"feed line B, no socket", Packet().ipv4("198.18.0.1", kGroupB).udp(5000, kPortB).payload(1200),
       FH_PASS_NO_SOCKET},
      {"line A's group, line B's port", Packet().ipv4("198.18.0.1", kGroupA).udp(5000, kPortB).payload(40),
       FH_PASS_OTHER_LINE},
      {"another group", Packet().ipv4("198.18.0.1", "239.100.1.3").udp(5000, kPortA).payload(40), FH_PASS_OTHER_LINE},
      {"unicast to the feed port", Packet().ipv4("198.18.0.1", "198.18.0.2").udp(5000, kPortA).payload(40),
       FH_PASS_OTHER_LINE},
      {"ARP", Packet().arp(), FH_PASS_NOT_IPV4},
      {"IPv6 UDP", Packet().ipv6(), FH_PASS_NOT_IPV4},
      {"IGMP report for the group", Packet().ipv4("198.18.0.1", kGroupA).igmp(), FH_PASS_NOT_UDP},
      {"TCP to the feed port", Packet().ipv4("198.18.0.1", kGroupA).tcp(5000, kPortA), FH_PASS_NOT_UDP},
      {"first fragment of a feed datagram",
       Packet().ipv4("198.18.0.1", kGroupA).udp(5000, kPortA).payload(400).fragment(true, 0), FH_PASS_FRAGMENT},
      {"later fragment", Packet().ipv4("198.18.0.1", kGroupA).udp(5000, kPortA).payload(40).fragment(false, 185),
       FH_PASS_FRAGMENT},
      {"don't-fragment bit alone is no fragment",
       Packet().ipv4("198.18.0.1", kGroupA).udp(5000, kPortA).payload(40).dontFragment(), FH_PASS_NO_SOCKET},
      {"IP options before UDP", Packet().ipv4("198.18.0.1", kGroupA).ipOptions(2).udp(5000, kPortA).payload(40),
       FH_PASS_NO_SOCKET},
      {"VLAN-tagged feed line", Packet().vlan(100).ipv4("198.18.0.1", kGroupA).udp(5000, kPortA).payload(40),
       FH_PASS_NO_SOCKET},
      {"VLAN-tagged other line", Packet().vlan(100).ipv4("198.18.0.1", kGroupA).udp(5000, 9999).payload(40),
       FH_PASS_OTHER_LINE},
      {"802.1ad tag", Packet().vlan(7, 0x88A8).ipv4("198.18.0.1", kGroupB).udp(5000, kPortB).payload(40),
       FH_PASS_NO_SOCKET},
      {"two tags (QinQ): not looked into",
       Packet().vlan(7, 0x88A8).vlan(100).ipv4("198.18.0.1", kGroupA).udp(5000, kPortA), FH_PASS_NOT_IPV4},
      // (A frame shorter than an Ethernet header never reaches XDP: test_run refuses it too.)
      {"VLAN tag cut short", Packet().vlan(100).truncate(16), FH_PASS_MALFORMED},
      {"IPv4 header cut short", Packet().ipv4("198.18.0.1", kGroupA).udp(5000, kPortA).truncate(30), FH_PASS_MALFORMED},
      {"IHL below 5", Packet().ipv4("198.18.0.1", kGroupA).udp(5000, kPortA).ihl(4), FH_PASS_MALFORMED},
      {"IHL beyond the frame", Packet().ipv4("198.18.0.1", kGroupA).udp(5000, kPortA).ihl(15), FH_PASS_MALFORMED},
      {"UDP header cut short", Packet().ipv4("198.18.0.1", kGroupA).udp(5000, kPortA).payload(40).truncate(38),
       FH_PASS_MALFORMED},
      {"UDP length beyond the frame",
       Packet().ipv4("198.18.0.1", kGroupA).udp(5000, kPortA).payload(100).udpLength(2000), FH_PASS_MALFORMED},
      {"UDP length below its header", Packet().ipv4("198.18.0.1", kGroupA).udp(5000, kPortA).payload(100).udpLength(7),
       FH_PASS_MALFORMED},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    const std::vector<uint8_t> frame = c.packet.bytes();
    const Outcome o = runOnce(*s, frame);
    CHECK(o.action == XDP_PASS);
    expectOnly(o, c.reason, frame.size());
  }
}

TEST_CASE("steer: a feed packet goes to the AF_XDP socket of its queue, and only there", "[bpf]") {
  auto s = loaded();
  // A network namespace of our own: its loopback carries the socket.
  REQUIRE(::unshare(CLONE_NEWNET) == 0);
  {
    const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    ifreq req{};
    std::snprintf(req.ifr_name, sizeof req.ifr_name, "lo");
    REQUIRE(::ioctl(fd, SIOCGIFFLAGS, &req) == 0);
    req.ifr_flags = static_cast<short>(req.ifr_flags | IFF_UP);
    REQUIRE(::ioctl(fd, SIOCSIFFLAGS, &req) == 0);
    ::close(fd);
  }
  const uint32_t lo = if_nametoindex("lo");
  REQUIRE(lo != 0);
  fh::xsk::SocketConfig config;
  config.interface = "lo";
  config.queue = 0;
  config.xdpMode = fh::xsk::XdpMode::Generic;
  config.frames = 64;
  config.ringSize = 64;
  fh::xsk::Socket xsk(config);
  CHECK_FALSE(xsk.zeroCopy());
  s->setSocket(0, xsk.fd());

  const std::vector<uint8_t> feed = Packet().ipv4("198.18.0.1", kGroupA).udp(5000, kPortA).payload(40).bytes();
  Outcome o = runOnce(*s, feed, lo, 0);
  CHECK(o.action == XDP_REDIRECT);
  expectOnly(o, FH_REDIRECTED, feed.size());

  // Not a feed packet: the socket does not change that.
  const std::vector<uint8_t> other = Packet().ipv4("198.18.0.1", kGroupA).udp(5000, 9999).payload(40).bytes();
  o = runOnce(*s, other, lo, 0);
  CHECK(o.action == XDP_PASS);
  expectOnly(o, FH_PASS_OTHER_LINE, other.size());

  // Once the socket is gone (as when the daemon dies), feed packets pass.
  s->clearSocket(0);
  o = runOnce(*s, feed, lo, 0);
  CHECK(o.action == XDP_PASS);
  expectOnly(o, FH_PASS_NO_SOCKET, feed.size());
}
