# Reference numbers for analysis.sem's cluster-robust inference (lavaan 0.6-14):
# single-level models fitted with sem(..., cluster = ) (issue #14, single-level part).
#
# Run from the repository root:  Rscript tests/reference/sem_cluster_reference.R
# Writes the data it fits and tests/reference/sem_cluster/<case>_{est.csv,fit.json}
# (and <case>_extra.json with lavaan's Delta, implied moments and information for the
# moment-level test). The tests read these committed files and never call R.
#
# Data (written here, so R and Python read identical input):
# * demo.csv: lavaan's Demo.twolevel y1..y6, cluster (200 clusters, 2,500 rows) and a
#   group column g ("a" where x2 > 0, else "b"): a within-cluster split, so most
#   clusters appear in both groups.
# * demo_mcar.csv: the same with a seeded ~8% MCAR mask on y1..y6 (no row left empty).
# * hs_cluster.csv: HolzingerSwineford1939 x1..x9, school, ageyr, grade and a pseudo-cluster
#   clu = (row - 1) %/% 8 in file order (38 clusters of 8, the last of 5).
# * survey_cluster.csv: sem_robust/survey_recoded.csv (the compendium's recoded survey,
#   written by sem_robust_inputs.py) with community_id from data/raw/survey.csv (same
#   rows, same order); chain model from sem_robust/chain.lav.
#
# lavaan's conventions observed here (and mirrored by analysis/sem/cluster.py):
# * cluster= switches se to "robust.cluster" and adds the "yuan.bentler.mplus" test for
#   estimator "ML" as well as "MLR", and forces meanstructure = TRUE.
# * meat = G/(G-1) sum_c (sum_{i in c} s_i)(sum_{i in c} s_i)', per group.
# * estimator "ML" + cluster: the test uses observed.information = "h1" (lavaan warns).
suppressMessages(library(lavaan))
suppressMessages(library(jsonlite))

out_dir <- file.path("tests", "reference", "sem_cluster")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

fit_names <- c("npar", "ntotal", "chisq", "df", "pvalue", "baseline.chisq",
               "baseline.df", "cfi", "tli", "rmsea", "rmsea.ci.lower",
               "rmsea.ci.upper", "srmr", "logl", "unrestricted.logl", "aic",
               "bic", "chisq.scaled", "df.scaled", "pvalue.scaled",
               "chisq.scaling.factor", "baseline.chisq.scaled",
               "baseline.chisq.scaling.factor", "cfi.robust", "tli.robust",
               "rmsea.robust", "rmsea.ci.lower.robust", "rmsea.ci.upper.robust")

mat <- function(x) unname(as.matrix(x))

fit_case <- function(name, ..., extra = FALSE) {
  msgs <- character(0)
  fit <- withCallingHandlers(sem(...), warning = function(w) {
    msgs <<- c(msgs, conditionMessage(w))
    invokeRestart("muffleWarning")
  })
  pe <- parameterEstimates(fit, ci = FALSE, zstat = FALSE, pvalue = FALSE,
                           remove.nonfree = FALSE)
  cols <- intersect(c("lhs", "op", "rhs", "group", "est", "se"), names(pe))
  write.csv(pe[, cols], file.path(out_dir, paste0(name, "_est.csv")), row.names = FALSE)
  fm <- fitMeasures(fit)
  keep <- intersect(fit_names, names(fm))
  out <- as.list(setNames(as.numeric(fm[keep]), keep))
  opt <- lavInspect(fit, "options")
  out$se <- opt$se
  out$test <- paste(opt$test, collapse = ",")
  out$nclusters <- sapply(fit@Data@Lp, function(lp) lp$nclusters[[2]])
  out$warnings <- msgs
  writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
             file.path(out_dir, paste0(name, "_fit.json")))
  if (extra) {
    implied <- lavInspect(fit, "implied")
    ex <- list(theta = unname(coef(fit)), implied_cov = mat(implied$cov),
               implied_mean = unname(implied$mean), delta = mat(lavInspect(fit, "delta")),
               vcov = mat(vcov(fit)), information = mat(lavInspect(fit, "information")),
               information_first_order = mat(lavInspect(fit, "information.first.order")))
    writeLines(toJSON(ex, digits = NA, auto_unbox = TRUE, null = "null"),
               file.path(out_dir, paste0(name, "_extra.json")))
  }
  invisible(fit)
}

# ---- data -------------------------------------------------------------------------
demo <- Demo.twolevel[, c(paste0("y", 1:6), "cluster")]
demo$g <- ifelse(Demo.twolevel$x2 > 0, "a", "b")
write.csv(demo, file.path(out_dir, "demo.csv"), row.names = FALSE)
set.seed(20261202)
demo_mcar <- demo
ys <- paste0("y", 1:6)
m <- matrix(runif(nrow(demo) * 6) < 0.08, ncol = 6)
m[rowSums(m) == 6, 1] <- FALSE
for (j in 1:6) demo_mcar[m[, j], ys[j]] <- NA
write.csv(demo_mcar, file.path(out_dir, "demo_mcar.csv"), row.names = FALSE)

hs <- HolzingerSwineford1939[, c(paste0("x", 1:9), "school", "ageyr", "grade")]
hs$clu <- (seq_len(nrow(hs)) - 1) %/% 8
write.csv(hs, file.path(out_dir, "hs_cluster.csv"), row.names = FALSE)

survey_csv <- file.path("tests", "reference", "sem_robust", "survey_recoded.csv")
survey <- read.csv(survey_csv)
raw <- read.csv(file.path("data", "raw", "survey.csv"))
stopifnot(nrow(raw) == nrow(survey))
survey$community_id <- raw$community_id
write.csv(survey, file.path(out_dir, "survey_cluster.csv"), row.names = FALSE, na = "")
chain <- paste(readLines(file.path("tests", "reference", "sem_robust", "chain.lav")),
               collapse = "\n")

# ---- fits --------------------------------------------------------------------------
demo_model <- "fw =~ y1 + y2 + y3
fb =~ y4 + y5 + y6"
hs_model <- "visual =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed =~ x7 + x8 + x9"

fit_case("demo_mlr", demo_model, demo, cluster = "cluster", estimator = "MLR",
         extra = TRUE)
fit_case("demo_ml", demo_model, demo, cluster = "cluster")
fit_case("demo_fiml_mlr", demo_model, demo_mcar, cluster = "cluster",
         estimator = "MLR", missing = "ml")
fit_case("demo_fiml_ml", demo_model, demo_mcar, cluster = "cluster", missing = "ml")
fit_case("demo_listwise_mlr", demo_model, demo_mcar, cluster = "cluster",
         estimator = "MLR")
fit_case("demo_group_mlr", demo_model, demo, cluster = "cluster", group = "g",
         estimator = "MLR")
fit_case("demo_group_metric_mlr", demo_model, demo, cluster = "cluster", group = "g",
         group.equal = "loadings", estimator = "MLR")
fit_case("demo_group_fiml_mlr", demo_model, demo_mcar, cluster = "cluster", group = "g",
         estimator = "MLR", missing = "ml")
# clusters of size one: the first 30 rows each made their own cluster (lavaan accepts
# them: a singleton contributes its own score to the meat)
demo_single <- demo
demo_single$cluster[1:30] <- 10000 + (1:30)
fit_case("demo_singletons_mlr", demo_model, demo_single, cluster = "cluster",
         estimator = "MLR")
# fewer clusters (15) than free parameters (19): lavaan warns that vcov is not positive
# definite and still reports SEs
fit_case("demo_few_mlr", demo_model, demo[demo$cluster <= 15, ], cluster = "cluster",
         estimator = "MLR")

fit_case("hs_mlr", hs_model, hs, cluster = "clu", estimator = "MLR")
fit_case("hs_school_mlr", hs_model, hs, cluster = "clu", group = "school",
         estimator = "MLR")
# exogenous observed covariates (fixed.x = TRUE; grade has one missing value: listwise)
fit_case("hs_fixedx_mlr", "visual =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
visual ~ ageyr + grade
textual ~ grade", hs, cluster = "clu", estimator = "MLR")

fit_case("survey_mlr", chain, survey, cluster = "community_id", estimator = "MLR")
fit_case("survey_fiml_mlr", chain, survey, cluster = "community_id", estimator = "MLR",
         missing = "ml")
