#pragma once

#include <string>
#include <vector>

namespace cxp::test {

/// Every control character class the admin input refuses, as UTF-8.
inline const std::vector<std::string> control_samples = {std::string{"a\0b", 3},
                                                         "\x1b[31mred\x1b[0m",
                                                         "tab\there",
                                                         "line\nbreak",
                                                         "del\x7f",
                                                         "c1 \xc2\x80",
                                                         "csi \xc2\x9b"
                                                         "31m",
                                                         "nel \xc2\x85"};

} // namespace cxp::test
