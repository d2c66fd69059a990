#include "xsk/steering.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "fh_steer.skel.h"
#include "xsk/capabilities.h"

namespace fh::xsk {

static_assert(sizeof(fh_line_key) == 8);
static_assert(sizeof(fh_line_value) == 8);
static_assert(sizeof(fh_counter) == 16);

namespace {

std::runtime_error failure(const std::string& what, int error) {
  return std::runtime_error(what + ": " + std::strerror(error < 0 ? -error : error));
}

}  // namespace

const char* name(XdpMode mode) noexcept { return mode == XdpMode::Native ? "native" : "generic"; }

const char* reasonName(fh_reason reason) noexcept {
  switch (reason) {
    case FH_REDIRECTED:
      return "redirected";
    case FH_PASS_NO_SOCKET:
      return "pass.no_socket";
    case FH_PASS_NOT_IPV4:
      return "pass.not_ipv4";
    case FH_PASS_FRAGMENT:
      return "pass.fragment";
    case FH_PASS_NOT_UDP:
      return "pass.not_udp";
    case FH_PASS_OTHER_LINE:
      return "pass.other_line";
    case FH_PASS_MALFORMED:
      return "pass.malformed";
    case FH_REASON_COUNT:
      break;
  }
  return "unknown";
}

Steering::Steering() {
  skel_ = fh_steer__open_and_load();
  if (skel_ == nullptr) {
    const int e = errno;
    throw failure("cannot load the XDP steering program" +
                      missingCapabilities(
                          {{CAP_BPF, "CAP_BPF"}, {CAP_PERFMON, "CAP_PERFMON"}, {CAP_NET_ADMIN, "CAP_NET_ADMIN"}}, e),
                  e);
  }
}

Steering::~Steering() {
  detach();
  fh_steer__destroy(skel_);
}

XdpMode Steering::attach(const std::string& interface, bool allowNative) {
  detach();
  const unsigned ifindex = if_nametoindex(interface.c_str());
  if (ifindex == 0) throw failure("interface '" + interface + "'", errno);
  int nativeError = 0;
  for (const XdpMode mode : {XdpMode::Native, XdpMode::Generic}) {
    if (mode == XdpMode::Native && !allowNative) continue;
    LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = mode == XdpMode::Native ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE);
    const int fd = bpf_link_create(bpf_program__fd(skel_->progs.fh_steer), int(ifindex), BPF_XDP, &opts);
    if (fd >= 0) {
      linkFd_ = fd;
      interface_ = interface;
      return mode;
    }
    if (mode == XdpMode::Native)
      nativeError = errno;
    else {
      const int e = errno;
      const std::string privilege = missingCapabilities({{CAP_NET_ADMIN, "CAP_NET_ADMIN"}, {CAP_BPF, "CAP_BPF"}}, e);
      throw failure("cannot attach the XDP program to " + interface +
                        (nativeError ? std::string(" (native mode: ") + std::strerror(nativeError) + ")" : "") +
                        (privilege.empty() ? "; is another XDP program attached?" : privilege),
                    e);
    }
  }
  throw std::logic_error("unreachable");
}

void Steering::detach() noexcept {
  if (linkFd_ >= 0) ::close(linkFd_);
  linkFd_ = -1;
}

void Steering::addLine(uint32_t group, uint16_t port, uint32_t lineId, uint32_t feedId) {
  const fh_line_key key{htonl(group), htons(port), 0};
  const fh_line_value value{lineId, feedId};
  if (bpf_map_update_elem(linesMapFd(), &key, &value, BPF_ANY) != 0) throw failure("cannot add a feed line", errno);
}

void Steering::setSocket(uint32_t queue, int xskFd) {
  if (queue >= FH_MAX_QUEUES)
    throw std::runtime_error("queue " + std::to_string(queue) + " is beyond the " + std::to_string(FH_MAX_QUEUES) +
                             " the XDP program serves");
  if (bpf_map_update_elem(socketMapFd(), &queue, &xskFd, BPF_ANY) != 0)
    throw failure("cannot register the AF_XDP socket of queue " + std::to_string(queue), errno);
}

void Steering::clearSocket(uint32_t queue) noexcept { bpf_map_delete_elem(socketMapFd(), &queue); }

SteeringCounters Steering::counters() const {
  SteeringCounters out;
  const int cpus = libbpf_num_possible_cpus();
  std::vector<fh_counter> perCpu(cpus > 0 ? size_t(cpus) : 1);
  for (uint32_t r = 0; r < FH_REASON_COUNT; ++r) {
    if (bpf_map_lookup_elem(statsMapFd(), &r, perCpu.data()) != 0) continue;
    for (const fh_counter& c : perCpu) {
      out.byReason[r].packets += c.packets;
      out.byReason[r].bytes += c.bytes;
    }
  }
  return out;
}

int Steering::programFd() const noexcept { return bpf_program__fd(skel_->progs.fh_steer); }
int Steering::socketMapFd() const noexcept { return bpf_map__fd(skel_->maps.fh_xsks); }
int Steering::statsMapFd() const noexcept { return bpf_map__fd(skel_->maps.fh_stats); }
int Steering::linesMapFd() const noexcept { return bpf_map__fd(skel_->maps.fh_lines); }

}  // namespace fh::xsk
