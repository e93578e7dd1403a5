// Tables through libsmartcols, as lsipc prints them: columns, output modes, options.
#pragma once

#include <string>
#include <vector>

#include "options.hpp"
#include "text.hpp"

struct libscols_table;

namespace ipcshm_cli {

enum class OutputMode { kTable, kRaw, kJson, kExport, kNewline, kPretty };

// lsipc's output options.
struct OutputOptions {
  OutputMode mode = OutputMode::kTable;
  bool mode_given = false;      // -J, -r, -e, -n or -l was given
  bool noheadings = false, notruncate = false, bytes = false, numeric_perms = false;
  bool shellvar = false, output_all = false, creator = false, times = false;
  bool channels = false;  // -C: ls's channel columns
  bool time_given = false;
  TimeFormat time_format = TimeFormat::kShort;
  std::vector<std::string> outputs;  // each -o LIST, in order ("+LIST" adds)
};

// The options above, as Option entries; with_extras adds lsipc's -c/--creator
// and -t/--time (object listings).
std::vector<Option> output_option_specs(bool with_extras);
// Handles one of them (usage errors for bad values and conflicting modes);
// false if key is not an output option.
bool take_output_option(int key, const char* arg, OutputOptions* out);
// The help text of the options.
std::string output_options_help(bool with_extras);

struct ColumnSpec {
  const char* name;   // as -o takes it and headings show it (JSON: lower case)
  const char* label;  // for the "Label: value" view of `info`
  const char* help;
  double whint;       // libsmartcols width hint
  int flags;          // SCOLS_FL_*
};

// The columns to show: the defaults, or all (--output-all), then each -o list
// in turn (replacing, or adding with a leading '+'). Names are case-insensitive;
// an unknown one is a usage error.
std::vector<size_t> select_columns(const std::vector<ColumnSpec>& all,
                                   const std::vector<size_t>& defaults,
                                   const OutputOptions& opts);
// "  NAME  help" lines for a command's help.
std::string columns_help(const std::vector<ColumnSpec>& all);

// One cell. Text is printed escaped for terminals and exact (escaped) in JSON;
// numbers and booleans are JSON numbers and booleans; a list of numbers is a
// JSON array (comma-separated in tables, one detail line each in the label view).
struct Value {
  enum class Kind { kNone, kText, kNumber, kBool, kList } kind = Kind::kNone;
  std::string text;
  long long number = 0;
  bool flag = false;
  std::vector<long long> list;
  std::vector<std::string> details;  // label view of a list (raw text)

  static Value none() { return {}; }
  static Value of_text(std::string s) {
    Value v;
    v.kind = Kind::kText;
    v.text = std::move(s);
    return v;
  }
  static Value of_number(long long n) {
    Value v;
    v.kind = Kind::kNumber;
    v.number = n;
    return v;
  }
  static Value of_bool(bool b) {
    Value v;
    v.kind = Kind::kBool;
    v.flag = b;
    return v;
  }
};

// A table of rows of cells, printed as the options say: aligned columns, raw,
// NAME="value" pairs, lsipc's JSON ({"<name>": [{"column": value, ...}]}), or
// (kPretty) one "Label: value" line per cell that has a value.
class Table {
 public:
  Table(const OutputOptions& opts, const char* name, const std::vector<ColumnSpec>& all,
        const std::vector<size_t>& columns);
  ~Table();
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;

  void add_row(const std::vector<Value>& cells);  // one per column, in order
  void print();

 private:
  std::string render(const Value& v) const;

  const OutputOptions& opts_;
  const std::vector<ColumnSpec>& all_;
  std::vector<size_t> columns_;
  libscols_table* table_ = nullptr;
  std::vector<std::vector<Value>> pretty_rows_;
};

}  // namespace ipcshm_cli
