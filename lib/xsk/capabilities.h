// Which Linux capabilities this process holds in its effective set, to say
// exactly what is missing when the kernel refuses a bypass step (EPERM),
// rather than guess at "root". Control plane.
#pragma once

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <initializer_list>
#include <string>
#include <utility>

namespace fh::xsk {

inline bool hasCapability(int cap) noexcept {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &header, data) != 0) return false;
  return (data[cap / 32].effective >> (cap % 32) & 1u) != 0;
}

// " (needs CAP_A and CAP_B; this process lacks CAP_B)", or "" when it has
// them all (the refusal is then not about privilege) or the error is not one.
inline std::string missingCapabilities(std::initializer_list<std::pair<int, const char*>> caps, int error) {
  if (error != EPERM && error != EACCES) return "";
  std::string all, missing;
  for (const auto& [cap, name] : caps) {
    all += (all.empty() ? "" : ", ") + std::string(name);
    if (!hasCapability(cap)) missing += (missing.empty() ? "" : ", ") + std::string(name);
  }
  if (missing.empty()) return "";
  return " (needs " + all + "; this process lacks " + missing + ")";
}

}  // namespace fh::xsk
