#pragma once

#include "config/server_options.hpp"

#include <string>

namespace diffplane::cli {

/// The management secret of a dev server: kept in the data dir so it survives restarts.
std::string dev_management_secret(const std::string& data_dir);

/// What `serve --dev` prints once it listens.
std::string dev_banner(const std::string& endpoint, const std::string& management_secret,
                       const std::string& cluster_id, const std::string& api_secret,
                       const std::string& database, const std::string& data_dir);

} // namespace diffplane::cli
