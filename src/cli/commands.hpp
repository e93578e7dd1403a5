// The commands of the ipcshm tool: each one's help text and entry point.
#pragma once

#include <string>

namespace ipcshm_cli {

std::string ls_help();
int cmd_ls(int argc, char** argv);
std::string info_help();
int cmd_info(int argc, char** argv);
std::string fuser_help();
int cmd_fuser(int argc, char** argv);

std::string create_help();
int cmd_create(int argc, char** argv);
std::string rm_help();
int cmd_rm(int argc, char** argv);
std::string chmod_help();
int cmd_chmod(int argc, char** argv);

std::string cat_help();
int cmd_cat(int argc, char** argv);
std::string write_help();
int cmd_write(int argc, char** argv);

std::string gc_help();
int cmd_gc(int argc, char** argv);

}  // namespace ipcshm_cli
