// Planning for the `events` virtual table (sql_events_plan.h).
#include "collector/sql/sql_events_plan.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "collector/sql/sql_events_columns.h"
#include "collector/store/store_keys.h"

namespace orgtrail::collector::sql_events {

namespace {

// Relative selectivity of an equality on an indexed attribute (lower = fewer rows).
double IndexSelectivity(IndexKind kind) {
  switch (kind) {
    case IndexKind::kEventId: return 1e-9;
    case IndexKind::kAccessKeyId: return 0.001;
    case IndexKind::kUsername: return 0.002;
    case IndexKind::kEventName: return 0.005;
    case IndexKind::kEventSource: return 0.05;
    case IndexKind::kReadOnly: return 0.5;
    default: return 1;
  }
}

std::optional<IndexKind> IndexOfColumn(int column) {
  switch (column) {
    case kEventId: return IndexKind::kEventId;
    case kEventName: return IndexKind::kEventName;
    case kEventSource: return IndexKind::kEventSource;
    case kUsername: return IndexKind::kUsername;
    case kUserIdentityAccessKeyId: return IndexKind::kAccessKeyId;
    case kReadOnly: return IndexKind::kReadOnly;
    default: return std::nullopt;
  }
}

}  // namespace

int PlanEventsScan(double events_stored, sqlite3_index_info* info) {
  double total = std::max<double>(1000, events_stored);
  int best_index_constraint = -1;
  double best_index_selectivity = 1;
  bool has_account = false, has_region = false;
  double time_factor = 1;
  std::vector<int> used;  // constraints passed to xFilter, in argv order
  std::string codes;
  for (int i = 0; i < info->nConstraint; ++i) {
    const auto& c = info->aConstraint[i];
    if (!c.usable) continue;
    if (sqlite3_vtab_in(info, i, -1)) continue;  // IN lists: SQLite handles them itself
    if (c.iColumn == kEventTime) {
      char code = 0;
      switch (c.op) {
        case SQLITE_INDEX_CONSTRAINT_GE: code = 'g'; break;
        case SQLITE_INDEX_CONSTRAINT_GT: code = '>'; break;
        case SQLITE_INDEX_CONSTRAINT_LE: code = 'l'; break;
        case SQLITE_INDEX_CONSTRAINT_LT: code = '<'; break;
        case SQLITE_INDEX_CONSTRAINT_EQ: code = '='; break;
        default: break;
      }
      if (code) {
        used.push_back(i);
        codes.push_back(code);
        time_factor *= code == '=' ? 0.001 : 0.5;
      }
      continue;
    }
    if (c.op != SQLITE_INDEX_CONSTRAINT_EQ) continue;
    if (c.iColumn == kRecipientAccountId) {
      used.push_back(i), codes.push_back('A'), has_account = true;
    } else if (c.iColumn == kAwsRegion) {
      used.push_back(i), codes.push_back('R'), has_region = true;
    } else if (c.iColumn == kPartitionRegion) {
      used.push_back(i), codes.push_back('P'), has_region = true;
    } else if (auto kind = IndexOfColumn(c.iColumn)) {
      double selectivity = IndexSelectivity(*kind);
      if (best_index_constraint < 0 || selectivity < best_index_selectivity) {
        best_index_constraint = i;
        best_index_selectivity = selectivity;
      }
    }
  }
  double partition_selectivity = (has_account ? 0.1 : 1) * (has_region ? 0.2 : 1);
  double index_cost = best_index_constraint >= 0 ? total * best_index_selectivity : total;
  double partition_cost = (has_account || has_region) ? total * partition_selectivity * 1.2 : total * 10;
  double scan_cost = total;
  int plan = 0;
  double cost = scan_cost;
  if (best_index_constraint >= 0 && index_cost <= partition_cost) {
    plan = static_cast<int>(*IndexOfColumn(info->aConstraint[best_index_constraint].iColumn)) + 1;
    used.push_back(best_index_constraint);
    codes.push_back('K');
    cost = index_cost;
  } else if (has_account || has_region) {
    plan = kPlanPartitions;
    cost = partition_cost;
  }
  // Secondary account/region filters on index entries make index plans cheaper too.
  if (plan != kPlanPartitions && plan != 0) cost *= 0.9;
  cost = std::max(1.0, cost * time_factor);
  for (size_t k = 0; k < used.size(); ++k) {
    info->aConstraintUsage[used[k]].argvIndex = static_cast<int>(k + 1);
    info->aConstraintUsage[used[k]].omit = 0;  // SQLite re-checks every constraint
  }
  // Whether any column beyond the key-derived ones is read: index plans then
  // prefetch records in sorted batches (MultiGet) instead of one lookup per row.
  const uint64_t key_columns = (1ull << kEventId) | (1ull << kEventTime) | (1ull << kRecipientAccountId) |
                               (1ull << kPartitionRegion);
  if ((info->colUsed & ~key_columns) != 0) plan |= kPlanFetchFlag;
  info->idxNum = plan;
  info->idxStr = sqlite3_mprintf("%s", codes.c_str());
  info->needToFreeIdxStr = 1;
  info->estimatedCost = cost;
  info->estimatedRows = static_cast<sqlite3_int64>(std::max(1.0, cost));
  if ((plan & ~kPlanFetchFlag) == static_cast<int>(IndexKind::kEventId) + 1) info->idxFlags |= SQLITE_INDEX_SCAN_UNIQUE;
  return SQLITE_OK;
}

}  // namespace orgtrail::collector::sql_events
