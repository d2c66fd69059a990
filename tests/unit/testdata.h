// Paths to the real ITCH 5.0 data beside the checkout, and small helpers the
// tests share.
#pragma once

#include <string>

namespace fh::test {

inline std::string testdata(const std::string& relative) {
  return std::string(FH_TESTDATA_DIR) + "/itch50/" + relative;
}

inline std::string binary(const std::string& name) { return std::string(FH_BIN_DIR) + "/" + name; }

}  // namespace fh::test
