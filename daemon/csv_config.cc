#include "daemon/csv_config.h"

namespace scimsync {

CsvSourceOptions ToCsvOptions(const Config& config) {
  const CsvSourceConfig& csv = config.source.csv;
  CsvSourceOptions o;
  o.users = csv.users;
  o.groups = csv.groups;
  o.delimiter = csv.delimiter;
  o.groups_column = csv.groups_column;
  o.group_separator = csv.group_separator;
  o.mapping = config.mapping;
  if (o.mapping.key_field.empty()) o.mapping.key_field = csv.key;
  return o;
}

}  // namespace scimsync
