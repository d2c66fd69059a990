// What the host offers a feed's kernel-bypass path, as it stands: one item
// per thing an operator tunes (the worker's CPU, NUMA, queues and their IRQs,
// busy-poll settings, huge pages, the memlock limit, the CPU's frequency and
// idle states, the driver's XDP support), each with a verdict, why it
// matters, and what fixes it. Read from /sys and /proc under a root
// directory, so that tests lay out a fake one. Nothing is changed.
#pragma once

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

// Every item for every feed of `config`, in a fixed order. `root` is where
// /sys and /proc are ("/" on a real host).
std::vector<HostItem> checkHost(const Config& config, const std::string& root = "/");

// One line per item: verdict, feed, item, what was found; then why and the
// fix, indented, for each item that is not ok.
std::string formatHostReport(const std::vector<HostItem>& items);
// The same as one JSON object: {"items":[{...}], "ok":N, "warn":N, "bad":N, "n/a":N}.
std::string formatHostReportJson(const std::vector<HostItem>& items);

// "0-3,8,10-11" -> {0,1,2,3,8,10,11}; empty on a malformed list.
std::vector<int> parseCpuList(const std::string& text);

}  // namespace fh::daemon
