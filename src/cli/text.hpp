// How names, sizes, times, permissions and users are spelled for terminals and JSON.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ipcshm_cli {

// Text safe to print on a terminal, spelled as util-linux spells what it will
// not print raw: each byte of a control character (C0, DEL, C1), of a bidi
// override or other invisible formatting character (U+202E, U+2066, U+200F,
// ...), of a character the locale cannot print, or that is not UTF-8, becomes
// \xHH; a backslash before an 'x' becomes \x5c so that the result reads back
// unambiguously.
std::string terminal_text(std::string_view s);

// A JSON string literal (with its quotes) that carries s exactly: control and
// bidi/formatting characters as \uXXXX (valid JSON, harmless on a terminal),
// bytes that are not UTF-8 as \udcXX, as Python's surrogateescape reads them.
std::string json_string(std::string_view s);

// A size as lsipc prints it (util-linux's size_to_human_string): 100B, 4K,
// 1.5M, one decimal, powers of 1024.
std::string human_size(uint64_t bytes);

// Times as lsipc's --time-format spells them.
enum class TimeFormat { kShort, kFull, kIso };
bool parse_time_format(const char* text, TimeFormat* out);
std::string time_text(int64_t seconds, TimeFormat format);

// Permission bits as lsipc prints them: rw-r----- or, numeric, 0640.
std::string perms_text(uint32_t mode, bool numeric);

// User and group names (empty if unknown), looked up once each.
std::string user_name(uint32_t uid);
std::string group_name(uint32_t gid);

}  // namespace ipcshm_cli
