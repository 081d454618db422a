-- Quality trend per agent: a least-squares line through every quality score recorded on the
-- agent's rows against time (in days), labelled by a two-sided t-test of its slope:
--   slope = cov(x, y) / var(x),  SE = sqrt((var(y) - slope * cov(x, y)) / ((n - 2) * var(x))),
--   t = slope / SE with n - 2 degrees of freedom (population moments throughout).
-- improving / declining when |t| reaches the critical value for the test's level (looked up in
-- {t_critical}, index df, built by the caller), stable otherwise, insufficient_data below
-- {min_runs} scores or when every score has the same time. The Welford-based *Stable moments are
-- used instead of simpleLinearRegression's raw sums, which lose precision on days-since-epoch.
-- change_over_range is the fitted change from the first to the last score.
SELECT * EXCEPT (var_x, cov_xy, slope)
FROM
(
SELECT
    AgentName AS agent,
    count() AS scored,
    round(avg(y), 4) AS avg_quality,
    min(Timestamp) AS first_score_at,
    max(Timestamp) AS last_score_at,
    varPopStable(x) AS var_x,
    covarPopStable(x, y) AS cov_xy,
    if(var_x > 0, cov_xy / var_x, nan) AS slope,
    round(slope, 6) AS slope_per_day,
    round(slope * (max(x) - min(x)), 4) AS change_over_range,
    scored - 2 AS df,
    if(df > 0 AND var_x > 0,
       sqrt(greatest(varPopStable(y) - slope * cov_xy, 0) / (df * var_x)), nan) AS se,
    round(multiIf(isNaN(se), nan, se > 0, slope / se, slope = 0, 0, slope * inf), 4) AS t_stat,
    {t_critical:Array(Float64)}[least(greatest(df, 1), length({t_critical:Array(Float64)}))] AS t_critical,
    multiIf(scored < {min_runs:UInt32} OR isNaN(t_stat) OR df < 1, 'insufficient_data',
            abs(t_stat) >= t_critical AND slope > 0, 'improving',
            abs(t_stat) >= t_critical AND slope < 0, 'declining',
            'stable') AS trend
FROM
(
    SELECT AgentName, Timestamp, toUnixTimestamp64Milli(Timestamp) / 86400000.0 AS x, assumeNotNull(QualityScore) AS y
    FROM agent_steps_resolved(tenant = {tenant:String}, since = {since:DateTime64(9)}, until = {until:DateTime64(9)})
    WHERE QualityScore IS NOT NULL
      AND ({agent:String} = '' OR AgentName = {agent:String})
)
GROUP BY AgentName
)
ORDER BY agent
