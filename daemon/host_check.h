// What the host offers a feed's kernel-bypass path, as it stands: one item
// per thing an operator tunes (the worker's CPU, NUMA, queues and their IRQs,
// busy-poll settings, huge pages, the memlock limit, the CPU's frequency and
// idle states, the driver's XDP support, the NIC's flow-steering rules), each
// with a verdict, why it matters, and what fixes it. Read from /sys and /proc
// under a root directory, so that tests lay out a fake one, and the steering
// rules through the ethtool ioctl (tests hand in their own). Nothing is
// changed.
#pragma once

#include <linux/ethtool.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "config.h"

namespace fh::daemon {

enum class Verdict { Ok, Warn, Bad, NotApplicable };
const char* verdictName(Verdict v) noexcept;  // "ok", "warn", "bad", "n/a"

struct HostItem {
  std::string feed;
  std::string item;  // e.g. "cpu.isolated"
  Verdict verdict;
  std::string found;  // what the host says
  std::string why;    // why it matters
  std::string fix;    // the command or setting that fixes it; empty when ok
};

// One ntuple flow-steering rule of a NIC (`ethtool -N IF flow-type udp4 ...
// action Q`), as ETHTOOL_GRXCLSRULE gives it.
struct SteeringRule {
  uint32_t location = 0;
  bool udp4 = false;                  // UDP over IPv4 (udp4, or ip4 of protocol 17 or any); the fields below only then
  uint32_t dstIp = 0, dstIpMask = 0;  // host byte order; the mask's set bits are compared
  uint16_t dstPort = 0, dstPortMask = 0;
  // It compares more than the destination (a source, ToS, VLAN or MAC
  // field): it may take only some of the line's packets.
  bool partial = false;
  bool rss = false;   // the queue is an offset in an RSS context, not a queue
  bool toVf = false;  // the packets go to a virtual function
  bool drop = false;
  uint32_t queue = 0;
  bool matches(uint32_t group, uint16_t port) const noexcept {
    return udp4 && (group & dstIpMask) == (dstIp & dstIpMask) && (port & dstPortMask) == (dstPort & dstPortMask);
  }
};
struct SteeringRules {
  bool supported = false;           // the driver has ntuple filters and they could be read
  std::string error;                // when not: why (e.g. "Operation not supported")
  std::vector<SteeringRule> rules;  // in location order: the first that matches wins
};
// The interface's rules, through SIOCETHTOOL (ETHTOOL_GRXCLSRLCNT, _GRXCLSRLALL, _GRXCLSRULE).
SteeringRules readSteeringRules(const std::string& interface);
SteeringRule decodeSteeringRule(const ethtool_rx_flow_spec& spec) noexcept;
using SteeringReader = std::function<SteeringRules(const std::string& interface)>;

// The node [memory] numa_node puts a feed's stores and UMEM on, as the host
// under `root` tells it; -1: where first touched (no node asked, or none
// known for the NIC or the worker's CPU). A file replay's "nic" is "cpu".
int storesNode(const Config& config, const Feed& feed, const std::string& root = "/");

// Every item for every feed of `config`, in a fixed order. `root` is where
// /sys and /proc are ("/" on a real host); `steering` reads the NIC's rules
// (by default readSteeringRules on a real host; not read under another root).
std::vector<HostItem> checkHost(const Config& config, const std::string& root = "/",
                                const SteeringReader& steering = {});

// One line per item: verdict, feed, item, what was found; then why and the
// fix, indented, for each item that is not ok.
std::string formatHostReport(const std::vector<HostItem>& items);
// The same as one JSON object: {"items":[{...}], "ok":N, "warn":N, "bad":N, "n/a":N}.
std::string formatHostReportJson(const std::vector<HostItem>& items);

// "0-3,8,10-11" -> {0,1,2,3,8,10,11}; empty on a malformed list.
std::vector<int> parseCpuList(const std::string& text);

}  // namespace fh::daemon
