-- Evaluates A/B experiments: one row per experiment, metric and variant.
--
-- Units. A run belongs to an experiment when any of its rows carries the experiment's id
-- (ExperimentId, stamped on every span inside `experiment(...).use(unit)`, or mapped from another
-- library's attribute); all rows of the run make its metrics. Runs are read through
-- agent_steps_resolved, as the reports group them: every step in the run it was attributed to
-- (step_attribution), so the model calls of other instrumentation below an agent span that
-- carries the variant (plain OpenTelemetry gen_ai spans name no run) count in that run; a step not
-- attributed yet keeps its own RunKey until the attribution job reaches it (seconds). The view
-- is read from 1970 on, the whole history as before: a run's start is its first row, wherever
-- the window starts. Only finished runs count: the run's outermost agent span is stored (or the
-- run is a whole trace), and the run started inside the experiment's window
-- [StartAt, least(EndAt, {as_of})). The unit is the run itself, or the
-- run's UserId, SessionId or attribute value (Unit = user | session | attribute:<key>); a unit's
-- value of a metric is the mean over its runs. A unit whose runs recorded more than one variant
-- (mixed) or a variant that is not defined (unknown) is left out and counted.
--
-- Run-level metrics: success_rate = 1 when the run did not fail (its outermost agent span, the
-- longest, has no Error status; without an agent span, no step failed), duration = first start
-- to last end in ms, total_tokens and cost = sums over model calls, quality = mean QualityScore,
-- score:<name> = mean over the run's scored targets (the run, or its steps) of each target's
-- latest score <name>. Metric kinds and good directions come from {metric_names}/{metric_kinds}/
-- {metric_better} (a score is a 'mean' metric, higher is better).
--
-- Per metric and variant, over units with a value: n, mean, sd (sample), and a {confidence} CI
-- of the mean: mean +- t(df = n - 1) * sd / sqrt(n); for a rate on run units (values 0/1) the
-- Wilson interval (p + z^2/2n +- z * sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n). Critical values
-- come from the caller: z = {z_ci}, t from {t_ci} (index df, df = 1..length) and beyond the table
-- the Cornish-Fisher expansion t = z + g1/v + g2/v^2 + g3/v^3 + g4/v^4 (Abramowitz & Stegun
-- 26.7.5; error below 1e-10 past the table, df 200).
--
-- Against the control (treatment minus control):
--   welch_t (mean metrics): Welch's t = d / sqrt(s1^2/n1 + s2^2/n2) with Welch-Satterthwaite df
--     (s1^2/n1 + s2^2/n2)^2 / ((s1^2/n1)^2/(n1-1) + (s2^2/n2)^2/(n2-1)); p and the CI of d from
--     welchTTest.
--   z_test (rates on run units): pooled two-proportion z = (p1 - p2) / sqrt(p(1-p)(1/n1 + 1/n2)),
--     p = pooled rate; the CI of d is the unpooled Wald interval; both from proportionsZTest.
--   mann_whitney_u (skewed: duration, tokens, cost): the normal approximation of U with tie and
--     continuity corrections (mannWhitneyUTest); the CI of d is still Welch's, of the means.
--   Relative difference r = m1/m2 - 1, CI by the delta method:
--     se(r) = sqrt(s1^2/(n1 m2^2) + m1^2 s2^2/(n2 m2^4)),  r +- z * se(r).
--   Better: the difference goes the metric's good way (for mann_whitney_u, U against n1*n2/2).
--
-- Always-valid p-value (primary metric, mSPRT with a normal mixture, Johari et al. 2017): units
-- in arrival order (first run's start); at every prefix where both arms hold {burn_in} units or
-- more, with d the difference of means and V = s1^2/n1 + s2^2/n2 (plug-in variances),
--   tau^2 = {tau}^2 * (s1^2 + s2^2) / 2   (mixing spread, in units of the per-unit sd)
--   Lambda = sqrt(V / (V + tau^2)) * exp(tau^2 d^2 / (2 V (V + tau^2)))
-- and the p-value is the least min(1, 1/Lambda) over the prefixes so far: by Ville's inequality
-- it stays valid however often, and whenever, the results are looked at.
-- p_value is the always-valid one on the primary metric of a Sequential experiment and the
-- fixed-horizon test's otherwise; p_value_kind says which.
--
-- Across the experiment:
--   Holm: with m p-values (variants x metrics) in increasing order, the adjusted i-th is
--     max over j <= i of min(1, (m - j + 1) p(j)).
--   Sample-ratio mismatch: chi2 = sum (O - E)^2 / E over variants, E = units * weight / 100,
--     df = variants - 1, p = Q(df/2, chi2/2) in closed form: for even df = 2k,
--     exp(-x) sum_{i<k} x^i / i!; for odd df = 2k+1, erfc(sqrt x) + exp(-x) sum_{i<k} x^(i+1/2) / G(i+3/2)
--     (x = chi2/2).
--   Power: mde = (z_{1-alpha/2} + z_power) * sqrt(s1^2/n1 + s2^2/n2) is the smallest difference
--     detectable now; units_needed = (z_{1-alpha/2} + z_power)^2 (s1^2 + s2^2) / target^2 per
--     variant, target = TargetEffect, else {default_target_rate} for rates and
--     {default_target_relative} of the control mean for the rest. z_{1-alpha/2} per experiment
--     comes in {z_alpha}, aligned with {experiments}; {z_power} is z at the power used.
--
-- Shape: each stage reads the one before it once (ClickHouse inlines CTEs wherever they are
-- referenced), so the runs are read once; per-experiment figures (SRM, Holm) are window
-- functions over the few result rows.
WITH
defs AS
(
    SELECT
        Name AS experiment,
        Variants AS variants,
        Weights AS weights,
        Control AS control,
        Unit AS unit,
        if(startsWith(Unit, 'attribute:'), substring(Unit, 11), '') AS unit_attribute,
        Metrics AS metrics,
        PrimaryMetric AS primary_metric,
        GuardMetrics AS guard_metrics,
        Alpha AS alpha,
        MinSample AS min_sample,
        Sequential AS sequential,
        TargetEffect AS target_effect,
        arrayFilter(v -> v != Control, Variants) AS treatments,
        coalesce(StartAt, toDateTime64(0, 3)) AS window_start,
        least(coalesce(EndAt, {as_of:DateTime64(9)}), {as_of:DateTime64(9)}) AS window_end,
        {z_alpha:Array(Float64)}[indexOf({experiments:Array(String)}, Name)] AS z_alpha
    FROM experiments FINAL
    WHERE Tenant = {tenant:String} AND has({experiments:Array(String)}, Name)
),
stamped AS
(
    -- the runs each experiment's variant was recorded on; an attribute unit is read here
    SELECT
        s.ExperimentId AS experiment,
        s.RunKey AS run,
        groupUniqArray(s.Variant) AS seen,
        anyIf(s.Attributes[d.unit_attribute], d.unit_attribute != '' AND s.Attributes[d.unit_attribute] != '')
            AS attribute_unit
    FROM agent_steps_resolved(tenant = {tenant:String}, since = '1970-01-01 00:00:00', until = {as_of:DateTime64(9)}) AS s
    INNER JOIN defs AS d ON d.experiment = s.ExperimentId
    WHERE has({experiments:Array(String)}, s.ExperimentId)
      AND s.Variant != ''
    GROUP BY experiment, run
),
run_facts AS
(
    -- every row of those runs, stamped or not, makes the run's metrics (judged as in overview.sql)
    SELECT
        RunKey AS run,
        min(Timestamp) AS started_at,
        countIf(IsRunSpan) > 0 OR RunKey = any(TraceId) AS finished,
        countIf(StepKind = 'agent') AS agent_spans,
        argMaxIf(StatusCode = 'Error', DurationMs, StepKind = 'agent') AS outermost_failed,
        if(agent_spans > 0, outermost_failed, countIf(StatusCode = 'Error') > 0) AS failed,
        (max(toUnixTimestamp64Nano(Timestamp) + toInt64(round(DurationMs * 1e6)))
            - toUnixTimestamp64Nano(min(Timestamp))) / 1e6 AS duration_ms,
        toFloat64(sumIf(InputTokens + CachedInputTokens + CacheWriteTokens + OutputTokens + ReasoningTokens,
                        IsModelCall)) AS tokens,
        sumIf(CostUSD, IsModelCall) AS cost_usd,
        avg(QualityScore) AS quality,
        anyIf(UserId, UserId != '') AS user_id,
        anyIf(SessionId, SessionId != '') AS session_id
    FROM agent_steps_resolved(tenant = {tenant:String}, since = '1970-01-01 00:00:00', until = {as_of:DateTime64(9)})
    WHERE RunKey IN (SELECT run FROM stamped)
    GROUP BY RunKey
    HAVING finished
),
runs AS
(
    SELECT
        st.experiment AS experiment,
        f.run AS run,
        st.seen AS seen,
        f.started_at AS started_at,
        f.failed AS failed,
        f.duration_ms AS duration_ms,
        f.tokens AS tokens,
        f.cost_usd AS cost_usd,
        f.quality AS quality,
        multiIf(d.unit = 'run', f.run, d.unit = 'user', f.user_id, d.unit = 'session', f.session_id,
                st.attribute_unit) AS unit_id
    FROM stamped AS st
    INNER JOIN run_facts AS f ON f.run = st.run
    INNER JOIN defs AS d ON d.experiment = st.experiment
    WHERE f.started_at >= d.window_start AND f.started_at < d.window_end AND unit_id != ''
),
score_targets AS
(
    SELECT if(SpanId != '', SpanId, RunId) AS target, Name AS name, argMax(Value, Timestamp) AS value
    FROM scores
    WHERE Tenant = {tenant:String}
      AND Timestamp < {as_of:DateTime64(9)}
      AND has((SELECT groupUniqArray(substring(m, 7)) FROM defs ARRAY JOIN metrics AS m
               WHERE startsWith(m, 'score:')), Name)
    GROUP BY target, name
),
run_scores AS
(
    -- per run and score name: the mean over the run's scored targets (the run itself, or its
    -- steps) of each target's latest score
    SELECT t.run AS run, sc.name AS name, avg(sc.value) AS value
    FROM score_targets AS sc
    INNER JOIN
    (
        SELECT SpanId, any(RunKey) AS run
        FROM agent_steps_resolved(tenant = {tenant:String}, since = '1970-01-01 00:00:00', until = '2200-01-01 00:00:00')
        WHERE SpanId IN (SELECT target FROM score_targets)
        GROUP BY SpanId
    ) AS t ON t.SpanId = sc.target
    GROUP BY run, name
),
units AS
(
    SELECT
        runs.experiment AS experiment,
        runs.unit_id AS unit_id,
        m AS metric,
        groupUniqArrayArray(runs.seen) AS seen_variants,
        min(runs.started_at) AS first_seen,
        avg(multiIf(m = 'success_rate', toNullable(if(runs.failed, 0.0, 1.0)),
                    m = 'duration', toNullable(runs.duration_ms),
                    m = 'total_tokens', toNullable(runs.tokens),
                    m = 'cost', runs.cost_usd,
                    m = 'quality', runs.quality,
                    startsWith(m, 'score:'), rs.value,
                    NULL)) AS value
    FROM runs
    INNER JOIN defs AS d ON d.experiment = runs.experiment
    ARRAY JOIN d.metrics AS m
    LEFT JOIN run_scores AS rs ON rs.run = runs.run AND concat('score:', rs.name) = m
    GROUP BY experiment, unit_id, metric
),
arms AS
(
    -- each unit once per comparison it takes part in: a control unit in every one, a unit
    -- that saw several variants (or an undefined one) in none (arm '', counted only)
    SELECT
        u.experiment AS experiment,
        u.metric AS metric,
        u.unit_id AS unit_id,
        u.first_seen AS first_seen,
        u.value AS value,
        length(u.seen_variants) = 1 AND has(d.variants, u.seen_variants[1]) AS assigned,
        length(u.seen_variants) > 1 AS mixed,
        toUInt8(assigned AND u.seen_variants[1] = d.control) AS is_control,
        arm,
        u.metric = d.primary_metric AS is_primary,
        -- welchTTest throws (instead of returning nan) when every value of both sides is 0, e.g.
        -- a cost metric of unpriced models: such a comparison gets no Welch test
        ifNull(max(u.value != 0) OVER (PARTITION BY u.experiment, u.metric, arm), false) AS welch_defined
    FROM units AS u
    INNER JOIN defs AS d ON d.experiment = u.experiment
    LEFT ARRAY JOIN if(NOT assigned, [], if(u.seen_variants[1] = d.control, d.treatments, [u.seen_variants[1]])) AS arm
),
comparisons AS
(
    -- the always-valid p-value of the primary metric, from its units in arrival order; each
    -- step is its own SELECT so that ClickHouse analyses every array expression once
    SELECT * EXCEPT (p_valid), if(empty(p_valid), NULL, arrayMin(p_valid)) AS p_sequential
    FROM
    (
        SELECT
            * EXCEPT (n1s, n2s, var_ds, tau2s, log_lambdas),
            arrayFilter(p -> isFinite(p),
                arrayMap((n1, n2, v, t, l) ->
                             if(n1 >= greatest({burn_in:UInt32}, 2) AND n2 >= greatest({burn_in:UInt32}, 2)
                                AND v > 0 AND t > 0, least(1.0, exp(-l)), nan),
                         n1s, n2s, var_ds, tau2s, log_lambdas)) AS p_valid
        FROM
        (
            -- -log(Lambda) = 1/2 log(V / (V + tau^2)) + tau^2 d^2 / (2 V (V + tau^2))
            SELECT
                * EXCEPT (ds),
                arrayMap((v, t, d) -> 0.5 * log(v / (v + t)) + t * d * d / (2 * v * (v + t)),
                         var_ds, tau2s, ds) AS log_lambdas
            FROM
            (
                SELECT
                    * EXCEPT (v1s, v2s),
                    arrayMap((v1, n1, v2, n2) -> v1 / n1 + v2 / n2, v1s, n1s, v2s, n2s) AS var_ds,
                    arrayMap((v1, v2) -> pow({tau:Float64}, 2) * (v1 + v2) / 2, v1s, v2s) AS tau2s
                FROM
                (
                    SELECT
                        * EXCEPT (s1s, s2s, q1s, q2s),
                        arrayMap((n, s, q) -> (q - s * s / n) / (n - 1), n1s, s1s, q1s) AS v1s,
                        arrayMap((n, s, q) -> (q - s * s / n) / (n - 1), n2s, s2s, q2s) AS v2s,
                        arrayMap((s1, n1, s2, n2) -> s1 / n1 - s2 / n2, s1s, n1s, s2s, n2s) AS ds
                    FROM
                    (
                        -- running counts, sums and sums of squares per arm (values centred on
                        -- their mean, so the sums of squares keep their precision)
                        SELECT
                            * EXCEPT (ordered, xs),
                            arrayCumSum(arrayMap(x -> toUInt64(x.3 = 0), ordered)) AS n1s,
                            arrayCumSum(arrayMap(x -> toUInt64(x.3 = 1), ordered)) AS n2s,
                            arrayCumSum(arrayMap((x, o) -> if(o.3 = 0, x, 0), xs, ordered)) AS s1s,
                            arrayCumSum(arrayMap((x, o) -> if(o.3 = 1, x, 0), xs, ordered)) AS s2s,
                            arrayCumSum(arrayMap((x, o) -> if(o.3 = 0, x * x, 0), xs, ordered)) AS q1s,
                            arrayCumSum(arrayMap((x, o) -> if(o.3 = 1, x * x, 0), xs, ordered)) AS q2s
                        FROM
                        (
                            SELECT * EXCEPT (centre), arrayMap(x -> x.4 - centre, ordered) AS xs
                            FROM
                            (
                            SELECT *, arrayAvg(arrayMap(y -> y.4, ordered)) AS centre
                            FROM
                            (
                                SELECT
                                    experiment,
                                    metric,
                                    arm,
                                    countIf(is_control = 0 AND arm != '') AS units_t,
                                    countIf(is_control = 1) AS units_c,
                                    countIf(is_control = 0 AND arm != '' AND value IS NOT NULL) AS n_t,
                                    countIf(is_control = 1 AND value IS NOT NULL) AS n_c,
                                    avgIf(value, is_control = 0) AS mean_t,
                                    avgIf(value, is_control = 1) AS mean_c,
                                    varSampIf(value, is_control = 0) AS var_t,
                                    varSampIf(value, is_control = 1) AS var_c,
                                    welchTTestIf({confidence:Float64})(value, is_control, welch_defined) AS welch,
                                    -- mannWhitneyUTest refuses an empty sample: it runs on the arrays, on a stand-in pair
                                    -- when an arm is empty, and that result is dropped
                                    groupArrayIf(assumeNotNull(value), is_control = 0 AND arm != '' AND value IS NOT NULL) AS values_t,
                                    groupArrayIf(assumeNotNull(value), is_control = 1 AND value IS NOT NULL) AS values_c,
                                    NOT empty(values_t) AND NOT empty(values_c) AS both_arms,
                                    arrayReduce('mannWhitneyUTest(\'two-sided\', 1)',
                                                if(both_arms, arrayConcat(values_t, values_c), [0., 1.]),
                                                if(both_arms, arrayConcat(arrayMap(v -> toUInt8(0), values_t), arrayMap(v -> toUInt8(1), values_c)),
                                                   [toUInt8(0), toUInt8(1)])) AS mwu_any,
                                    if(both_arms, mwu_any.p_value, nan) AS mwu_p,
                                    if(both_arms, mwu_any.u_statistic, nan) AS mwu_u,
                                    proportionsZTest(
                                        toUInt64(round(ifNull(sumIf(value, is_control = 0), 0))),
                                        toUInt64(round(ifNull(sumIf(value, is_control = 1), 0))),
                                        toUInt64(n_t), toUInt64(n_c), {confidence:Float64}, 'pooled') AS ztest,
                                    countIf(arm = '' AND mixed) AS mixed_units,
                                    countIf(arm = '' AND NOT mixed) AS unknown_variant_units,
                                    -- the primary metric's units in arrival order, for the always-valid p-value
                                    arraySort(x -> (x.1, x.2),
                                              groupArrayIf((first_seen, unit_id, is_control, assumeNotNull(value)),
                                                           is_primary AND arm != '' AND value IS NOT NULL)) AS ordered
                                FROM arms
                                GROUP BY experiment, metric, arm
                            )
                            )
                        )
                    )
                )
            )
        )
    )
),
variant_rows AS
(
    -- a row per treatment, and the control's row from the first treatment's comparison; the
    -- metric's kind and test, and the critical t of the mean's interval, as plain columns
    SELECT
        *,
        if(df >= 1, if(df <= length({t_ci:Array(Float64)}), {t_ci:Array(Float64)}[df],
           z + (pow(z, 3) + z) / 4 / df
             + (5 * pow(z, 5) + 16 * pow(z, 3) + 3 * z) / 96 / pow(df, 2)
             + (3 * pow(z, 7) + 19 * pow(z, 5) + 17 * pow(z, 3) - 15 * z) / 384 / pow(df, 3)
             + (79 * pow(z, 9) + 776 * pow(z, 7) + 1482 * pow(z, 5) - 1920 * pow(z, 3) - 945 * z) / 92160 / pow(df, 4)),
           NULL) AS t_crit
    FROM
    (
        SELECT
            c.*,
            side.1 AS variant,
            side.2 AS is_control,
            if(is_control, c.units_c, c.units_t) AS units,
            if(is_control, c.n_c, c.n_t) AS n,
            if(is_control, c.mean_c, c.mean_t) AS mean,
            if(n > 1, sqrt(if(is_control, c.var_c, c.var_t)), NULL) AS sd,
            toInt64(n) - 1 AS df,
            {z_ci:Float64} AS z,
            multiIf(c.metric = d.primary_metric, 'primary', has(d.guard_metrics, c.metric), 'guard', 'secondary') AS role,
            indexOf({metric_names:Array(String)}, c.metric) AS registry_index,
            if(registry_index > 0, {metric_kinds:Array(String)}[registry_index], 'mean') AS kind,
            if(registry_index > 0, {metric_better:Array(Int8)}[registry_index], 1) AS better_sign,
            multiIf(kind = 'rate' AND d.unit = 'run', 'z_test', kind = 'skewed', 'mann_whitney_u', 'welch_t') AS test,
            d.sequential AS sequential,
            d.z_alpha + {z_power:Float64} AS z_sum,
            d.target_effect AS configured_target
        FROM comparisons AS c
        INNER JOIN defs AS d ON d.experiment = c.experiment
        ARRAY JOIN if(c.arm = d.treatments[1], [(c.arm, false), (d.control, true)], [(c.arm, false)]) AS side
    )
),
rows AS
(
    SELECT
        experiment,
        metric,
        variant,
        role,
        is_control,
        test,
        units,
        n,
        mean,
        sd,
        if(test = 'z_test',
           (mean + z * z / (2 * n)) / (1 + z * z / n) - z / (1 + z * z / n) * sqrt(mean * (1 - mean) / n + z * z / (4 * n * n)),
           mean - t_crit * sd / sqrt(n)) AS ci_low,
        if(test = 'z_test',
           (mean + z * z / (2 * n)) / (1 + z * z / n) + z / (1 + z * z / n) * sqrt(mean * (1 - mean) / n + z * z / (4 * n * n)),
           mean + t_crit * sd / sqrt(n)) AS ci_high,
        if(is_control, NULL, mean_t - mean_c) AS diff,
        if(is_control, NULL, if(test = 'z_test', ztest.confidence_interval_low, welch.confidence_interval_low)) AS diff_ci_low,
        if(is_control, NULL, if(test = 'z_test', ztest.confidence_interval_high, welch.confidence_interval_high)) AS diff_ci_high,
        if(is_control OR mean_c = 0, NULL, mean_t / mean_c - 1) AS rel_diff,
        sqrt(var_t / (n_t * pow(mean_c, 2)) + pow(mean_t, 2) * var_c / (n_c * pow(mean_c, 4))) AS rel_se,
        if(is_control, NULL, multiIf(test = 'z_test', ztest.p_value, test = 'mann_whitney_u', mwu_p, welch.p_value)) AS p_fixed_raw,
        if(is_control OR role != 'primary' OR NOT sequential, NULL, p_sequential) AS p_always_valid,
        if(role = 'primary' AND sequential, 'always_valid', 'fixed_horizon') AS p_value_kind,
        if(is_control, NULL, if(test = 'mann_whitney_u', mwu_u - n_t * n_c / 2, mean_t - mean_c)) AS shift,
        better_sign,
        if(is_control, NULL, z_sum * sqrt(var_t / n_t + var_c / n_c)) AS mde_raw,
        coalesce(configured_target,
                 if(kind = 'rate', {default_target_rate:Float64}, {default_target_relative:Float64} * abs(mean_c))) AS target,
        z_sum,
        var_t,
        var_c,
        z,
        arm,
        mixed_units AS arm_mixed_units,
        unknown_variant_units AS arm_unknown_units
    FROM variant_rows
),
checked AS
(
    -- every statistic finite or NULL; Holm and the sample-ratio check read these
    SELECT
        experiment,
        metric,
        variant,
        role,
        is_control,
        test,
        units,
        n,
        mean,
        sd,
        if(isFinite(ci_low), ci_low, NULL) AS ci_low,
        if(isFinite(ci_high), ci_high, NULL) AS ci_high,
        diff,
        if(isFinite(diff_ci_low), diff_ci_low, NULL) AS diff_ci_low,
        if(isFinite(diff_ci_high), diff_ci_high, NULL) AS diff_ci_high,
        if(isFinite(rel_diff), rel_diff, NULL) AS rel_diff,
        if(isFinite(rel_diff - z * rel_se), rel_diff - z * rel_se, NULL) AS rel_diff_ci_low,
        if(isFinite(rel_diff + z * rel_se), rel_diff + z * rel_se, NULL) AS rel_diff_ci_high,
        if(isFinite(p_fixed_raw), p_fixed_raw, NULL) AS p_fixed_horizon,
        p_always_valid AS p_sequential,
        if(p_value_kind = 'always_valid', p_always_valid, if(isFinite(p_fixed_raw), p_fixed_raw, NULL)) AS p_value,
        p_value_kind,
        if(is_control OR shift IS NULL OR NOT isFinite(shift) OR shift = 0, NULL,
           CAST(shift * better_sign > 0, 'Nullable(Bool)')) AS better,
        if(isFinite(mde_raw), mde_raw, NULL) AS mde,
        pow(z_sum, 2) * (var_t + var_c) / pow(target, 2) AS needed,
        -- toUInt64 runs on every row whatever if() picks, so it gets a finite stand-in
        if(is_control OR NOT target > 0 OR NOT isFinite(needed), NULL,
           toUInt64(ceil(if(isFinite(needed) AND needed >= 0, needed, 0)))) AS units_needed,
        if(isFinite(target), target, NULL) AS target_effect,
        arm,
        arm_mixed_units,
        arm_unknown_units
    FROM rows
)
-- Per experiment, over its rows: the sample-ratio mismatch from the units of each variant (the
-- primary metric's rows; closed forms of the chi-square tail in the header), then Holm's
-- adjusted p-values. Each step is its own SELECT, so every expression is analysed once.
SELECT * EXCEPT (tests_m, p_rank, holm_term, arm, weights, srm_chi2_raw, needed),
    if(p_value IS NULL, NULL,
       least(1.0, max(holm_term) OVER (PARTITION BY experiment ORDER BY p_rank
                                      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW))) AS p_adjusted
FROM
(
    SELECT *, if(p_value IS NULL, 0, (tests_m - p_rank + 1) * p_value) AS holm_term
    FROM
    (
        SELECT
            * EXCEPT (srm_df, srm_total),
            if(srm_total > 0, srm_chi2_raw, NULL) AS srm_chi2,
            if(srm_total > 0,
               if(srm_chi2_raw = 0, 1.0, least(1.0, greatest(0.0,
                   if(srm_df % 2 = 0,
                      arraySum(arrayMap(i -> exp(i * log(srm_chi2_raw / 2) - srm_chi2_raw / 2 - lgamma(i + 1)),
                                        range(intDiv(srm_df, 2)))),
                      erfc(sqrt(srm_chi2_raw / 2))
                      + arraySum(arrayMap(i -> exp((i + 0.5) * log(srm_chi2_raw / 2) - srm_chi2_raw / 2 - lgamma(i + 1.5)),
                                          range(intDiv(srm_df, 2)))))))),
               NULL) AS srm_p
        FROM
        (
            SELECT
                *,
                arraySum(arrayMap((o, e) -> (o - e) * (o - e) / e, srm_observed, srm_expected)) AS srm_chi2_raw
            FROM
            (
                SELECT *, arrayMap(w -> srm_total * w / 100, weights) AS srm_expected
                FROM
                (
                    SELECT * EXCEPT (counts), arraySum(srm_observed) AS srm_total
                    FROM
                    (
                        SELECT
                            * EXCEPT (counts, variants),
                            counts,
                            arrayMap(v -> toFloat64(arraySum(arrayMap(x -> if(x.1 = v, x.2, 0), counts))), variants)
                                AS srm_observed,
                            countIf(p_value IS NOT NULL) OVER (PARTITION BY experiment) AS tests_m,
                            row_number() OVER (PARTITION BY experiment ORDER BY isNull(p_value), p_value, metric, variant)
                                AS p_rank
                        FROM
                        (
                            SELECT
                                -- named explicitly where defs has a column of the same name
                                k.experiment AS experiment,
                                k.* EXCEPT (experiment, target_effect, arm_mixed_units, arm_unknown_units),
                                k.target_effect AS target_effect,
                                groupArrayIf((k.variant, k.units), k.arm != '' AND k.role = 'primary')
                                    OVER (PARTITION BY k.experiment) AS counts,
                                sumIf(k.arm_mixed_units, k.arm = '' AND k.role = 'primary')
                                    OVER (PARTITION BY k.experiment) AS mixed_units,
                                sumIf(k.arm_unknown_units, k.arm = '' AND k.role = 'primary')
                                    OVER (PARTITION BY k.experiment) AS unknown_variant_units,
                                d.variants AS variants,
                                d.weights AS weights,
                                length(d.variants) - 1 AS srm_df,
                                d.alpha AS alpha,
                                d.min_sample AS min_sample,
                                d.control AS control,
                                d.window_start AS window_start,
                                d.window_end AS window_end
                            FROM checked AS k
                            INNER JOIN defs AS d ON d.experiment = k.experiment
                        )
                        WHERE arm != ''
                    )
                )
            )
        )
    )
)
ORDER BY experiment, role = 'secondary', role = 'guard', metric, is_control DESC, variant
