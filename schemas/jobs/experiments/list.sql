-- Experiment definitions of a tenant: the latest version of each name ({name} '' = every name,
-- {status} '' = every status), oldest first.
SELECT
    Name AS name,
    Description AS description,
    Variants AS variants,
    Weights AS weights,
    Control AS control,
    Unit AS unit,
    Metrics AS metrics,
    PrimaryMetric AS primary_metric,
    GuardMetrics AS guard_metrics,
    Alpha AS alpha,
    MinSample AS min_sample,
    Sequential AS sequential,
    TargetEffect AS target_effect,
    Status AS status,
    StartAt AS start_at,
    EndAt AS end_at,
    CreatedAt AS created_at,
    UpdatedAt AS updated_at
FROM experiments FINAL
WHERE Tenant = {tenant:String}
  AND ({name:String} = '' OR Name = {name:String})
  AND ({status:String} = '' OR Status = {status:String})
ORDER BY created_at, name
