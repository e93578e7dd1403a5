// Tables through libsmartcols, as lsipc prints them: columns, output modes, options.
//
// libsmartcols lays the tables out and writes raw, NAME="value" and JSON
// output. Two things are done here because it does not do them safely: in
// tables it prints bidi overrides (U+202E, ...) raw, so cells are escaped here
// (terminal_text) and its own encoding is turned off; in JSON it passes bytes
// that are not UTF-8 through (invalid JSON) and bidi overrides raw, so every
// cell is written here as a JSON literal and given to it as a "number", which
// it writes verbatim.
#include "output.hpp"

#include <libsmartcols.h>
#include <strings.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#include "cli.hpp"

namespace ipcshm_cli {
namespace {

enum : int {
  kOptNoheadings = 300,
  kOptNotruncate,
  kOptTimeFormat,
  kOptPairs,
};

[[noreturn]] void out_of_memory() { throw std::bad_alloc(); }

void set_mode(OutputOptions* out, OutputMode mode, const char* option) {
  static std::string given;  // the option that chose the mode, for the message
  if (out->mode_given && out->mode != mode)
    usage_error("options '%s' and '%s' are mutually exclusive", given.c_str(), option);
  out->mode = mode;
  out->mode_given = true;
  given = option;
}

}  // namespace

std::vector<Option> output_option_specs(bool with_extras) {
  std::vector<Option> specs = {
      {"output", true, 'o', 'o'},        {"output-all", false, 'O', 'O'},
      {"noheadings", false, kOptNoheadings}, {"notruncate", false, kOptNotruncate},
      {"raw", false, 'r', 'r'},          {"json", false, 'J', 'J'},
      {"export", false, 'e', 'e'},       {"pairs", false, kOptPairs},
      {"newline", false, 'n', 'n'},      {"list", false, 'l', 'l'},
      {"bytes", false, 'b', 'b'},        {"numeric-perms", false, 'P', 'P'},
      {"time-format", true, kOptTimeFormat}, {"shell", false, 'y', 'y'},
  };
  if (with_extras) {
    specs.push_back({"creator", false, 'c', 'c'});
    specs.push_back({"time", false, 't', 't'});
    specs.push_back({"channels", false, 'C', 'C'});
  }
  return specs;
}

bool take_output_option(int key, const char* arg, OutputOptions* out) {
  switch (key) {
    case 'o':
      if (!*arg) usage_error("option '--output' needs a list of columns");
      out->outputs.push_back(arg);
      return true;
    case 'O': out->output_all = true; return true;
    case kOptNoheadings: out->noheadings = true; return true;
    case kOptNotruncate: out->notruncate = true; return true;
    case 'r': set_mode(out, OutputMode::kRaw, "--raw"); return true;
    case 'J': set_mode(out, OutputMode::kJson, "--json"); return true;
    case 'e': set_mode(out, OutputMode::kExport, "--export"); return true;
    case kOptPairs: set_mode(out, OutputMode::kExport, "--pairs"); return true;
    case 'n': set_mode(out, OutputMode::kNewline, "--newline"); return true;
    case 'l': set_mode(out, OutputMode::kTable, "--list"); return true;
    case 'b': out->bytes = true; return true;
    case 'P': out->numeric_perms = true; return true;
    case kOptTimeFormat:
      if (!parse_time_format(arg, &out->time_format))
        usage_error("unknown time format '%s': expected short, full or iso", arg);
      out->time_given = true;
      return true;
    case 'y': out->shellvar = true; return true;
    case 'c': out->creator = true; return true;
    case 't': out->times = true; return true;
    case 'C': out->channels = true; return true;
    default: return false;
  }
}

std::string output_options_help(bool with_extras) {
  std::string text =
      "  -o, --output LIST       the columns to show, comma-separated (+LIST adds\n"
      "                          to the default ones)\n"
      "  -O, --output-all        every column\n"
      "      --noheadings        no heading line\n"
      "      --notruncate        never truncate a column to fit the terminal\n"
      "  -r, --raw               raw: cells one space apart, blanks escaped\n"
      "  -J, --json              JSON, shaped as lsipc's\n"
      "  -e, --export            NAME=\"value\" pairs (also --pairs)\n"
      "  -n, --newline           NAME=\"value\" pairs, one per line\n"
      "  -l, --list              aligned columns (the default of ls and fuser)\n"
      "  -b, --bytes             SIZE in bytes\n"
      "  -P, --numeric-perms     PERMS in octal\n"
      "      --time-format FMT   short, full or iso (default short; full for the\n"
      "                          'Label: value' view of info)\n"
      "  -y, --shell             column names usable as shell variables\n";
  if (with_extras)
    text +=
        "  -c, --creator           add the creator and owner columns CUID CGID UID GID\n"
        "  -t, --time              add the columns ATTACH DETACH MTIME\n"
        "  -C, --channels          add the channel columns SLOTSIZE SLOTS QUEUED SENDER\n"
        "                          RECEIVER\n";
  return text;
}

std::vector<size_t> select_columns(const std::vector<ColumnSpec>& all,
                                   const std::vector<size_t>& defaults,
                                   const OutputOptions& opts) {
  std::vector<size_t> cols = defaults;
  if (opts.output_all) {
    cols.clear();
    for (size_t i = 0; i < all.size(); ++i) cols.push_back(i);
  }
  for (const std::string& list : opts.outputs) {
    std::string names = list;
    if (!names.empty() && names[0] == '+') names.erase(0, 1);
    else cols.clear();
    size_t pos = 0;
    for (;;) {
      const size_t comma = names.find(',', pos);
      const std::string name = names.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
      if (name.empty()) usage_error("empty column name in '%s'", list.c_str());
      size_t i = 0;
      while (i < all.size() && strcasecmp(all[i].name, name.c_str()) != 0) ++i;
      if (i == all.size())
        usage_error("unknown column '%s' (--help lists the columns)", name.c_str());
      cols.push_back(i);
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
  }
  return cols;
}

std::string columns_help(const std::vector<ColumnSpec>& all) {
  std::string text;
  for (const ColumnSpec& c : all) text += format("  %-9s %s\n", c.name, c.help);
  return text;
}

Table::Table(const OutputOptions& opts, const char* name, const std::vector<ColumnSpec>& all,
             const std::vector<size_t>& columns)
    : opts_(opts), all_(all), columns_(columns) {
  if (opts.mode == OutputMode::kPretty) return;
  table_ = scols_new_table();
  if (!table_) out_of_memory();
  if (opts.noheadings) scols_table_enable_noheadings(table_, 1);
  if (opts.shellvar) scols_table_enable_shellvar(table_, 1);
  switch (opts.mode) {
    case OutputMode::kNewline:
      scols_table_set_column_separator(table_, "\n");
      scols_table_enable_export(table_, 1);
      break;
    case OutputMode::kExport: scols_table_enable_export(table_, 1); break;
    case OutputMode::kRaw: scols_table_enable_raw(table_, 1); break;
    case OutputMode::kJson: scols_table_enable_json(table_, 1); break;
    default: scols_table_enable_noencoding(table_, 1); break;  // cells come escaped
  }
  if (scols_table_set_name(table_, name) != 0) out_of_memory();
  for (size_t c : columns_) {
    const ColumnSpec& spec = all_[c];
    int flags = spec.flags;
    if (opts.notruncate) flags &= ~SCOLS_FL_TRUNC;
    libscols_column* cl = scols_table_new_column(table_, spec.name, spec.whint, flags);
    if (!cl) out_of_memory();
    if (opts.mode == OutputMode::kJson) scols_column_set_json_type(cl, SCOLS_JSON_NUMBER);
  }
}

Table::~Table() {
  if (table_) scols_unref_table(table_);
}

std::string Table::render(const Value& v) const {
  const bool json = opts_.mode == OutputMode::kJson;
  const bool terminal = opts_.mode == OutputMode::kTable || opts_.mode == OutputMode::kPretty;
  switch (v.kind) {
    case Value::Kind::kNone: return "null";
    case Value::Kind::kText: return json ? json_string(v.text) : terminal ? terminal_text(v.text) : v.text;
    case Value::Kind::kNumber: return std::to_string(v.number);
    case Value::Kind::kBool: return json ? (v.flag ? "true" : "false") : (v.flag ? "yes" : "no");
    case Value::Kind::kList: {
      std::string s;
      for (long long n : v.list) {
        if (!s.empty()) s += json ? ", " : ",";
        s += std::to_string(n);
      }
      return json ? "[" + s + "]" : s;
    }
  }
  return "";
}

void Table::add_row(const std::vector<Value>& cells) {
  if (opts_.mode == OutputMode::kPretty) {
    pretty_rows_.push_back(cells);
    return;
  }
  libscols_line* line = scols_table_new_line(table_, nullptr);
  if (!line) out_of_memory();
  for (size_t i = 0; i < cells.size() && i < columns_.size(); ++i) {
    if (cells[i].kind == Value::Kind::kNone && opts_.mode != OutputMode::kJson) continue;
    if (scols_line_set_data(line, i, render(cells[i]).c_str()) != 0) out_of_memory();
  }
}

void Table::print() {
  if (opts_.mode != OutputMode::kPretty) {
    scols_print_table(table_);
    return;
  }
  bool first = true;
  for (const std::vector<Value>& cells : pretty_rows_) {
    if (!first) std::fputc('\n', stdout);
    first = false;
    libscols_table* t = scols_new_table();
    if (!t) out_of_memory();
    scols_table_enable_noheadings(t, 1);
    scols_table_enable_noencoding(t, 1);
    if (!scols_table_new_column(t, "", 0, 0) || !scols_table_new_column(t, "", 0, 0))
      out_of_memory();
    auto add = [&](const std::string& label, const std::string& value) {
      libscols_line* line = scols_table_new_line(t, nullptr);
      if (!line || scols_line_set_data(line, 0, label.c_str()) != 0 ||
          scols_line_set_data(line, 1, value.c_str()) != 0)
        out_of_memory();
    };
    for (size_t i = 0; i < cells.size() && i < columns_.size(); ++i) {
      const Value& v = cells[i];
      const std::string label = std::string(all_[columns_[i]].label) + ":";
      if (v.kind == Value::Kind::kNone) continue;
      if (v.kind != Value::Kind::kList) {
        add(label, render(v));
        continue;
      }
      if (v.details.empty() && v.list.empty()) add(label, "none");
      const size_t n = v.details.empty() ? v.list.size() : v.details.size();
      for (size_t k = 0; k < n; ++k)
        add(k == 0 ? label : "",
            v.details.empty() ? std::to_string(v.list[k]) : terminal_text(v.details[k]));
    }
    scols_print_table(t);
    scols_unref_table(t);
  }
}

}  // namespace ipcshm_cli
