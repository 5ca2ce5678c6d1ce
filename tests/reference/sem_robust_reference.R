# Reference numbers for analysis.sem's FIML and MLR estimation (lavaan 0.6-14).
#
# Run from the repository root:  Rscript tests/reference/sem_robust_reference.R
# Writes tests/reference/sem_robust/<case>_{est.csv,fit.json,extra.json}.
# The tests read these committed files and never call R.
#
# Data: HolzingerSwineford1939 and PoliticalDemocracy as shipped with lavaan
# (identical to semopy.examples); hs_mcar.csv is HS x1..x9 with a fixed ~10%
# MCAR mask written by Python (seeded) and committed, so both sides read the
# same data; survey_recoded.csv + chain.lav are written by
# tests/reference/sem_robust_inputs.py from data/raw (codebook recoding).
# Run that script first; this one takes ~1 minute (the survey fits).
suppressMessages(library(lavaan))
suppressMessages(library(jsonlite))

out_dir <- file.path("tests", "reference", "sem_robust")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

fit_names <- c("npar", "ntotal", "chisq", "df", "pvalue", "baseline.chisq",
               "baseline.df", "cfi", "tli", "rmsea", "rmsea.ci.lower",
               "rmsea.ci.upper", "srmr", "logl", "unrestricted.logl", "aic",
               "bic", "chisq.scaled", "df.scaled", "pvalue.scaled",
               "chisq.scaling.factor", "baseline.chisq.scaled",
               "baseline.chisq.scaling.factor", "cfi.robust", "tli.robust",
               "rmsea.robust", "rmsea.ci.lower.robust",
               "rmsea.ci.upper.robust")

mat <- function(x) unname(as.matrix(x))

write_case <- function(name, fit, extra = TRUE) {
  pe <- parameterEstimates(fit, ci = FALSE, zstat = FALSE, pvalue = FALSE,
                           remove.nonfree = FALSE)
  cols <- intersect(c("lhs", "op", "rhs", "group", "est", "se"), names(pe))
  write.csv(pe[, cols], file.path(out_dir, paste0(name, "_est.csv")),
            row.names = FALSE)
  fm <- fitMeasures(fit)
  keep <- intersect(fit_names, names(fm))
  fit_list <- as.list(setNames(as.numeric(fm[keep]), keep))
  writeLines(toJSON(fit_list, digits = NA, auto_unbox = TRUE, pretty = TRUE),
             file.path(out_dir, paste0(name, "_fit.json")))
  if (!extra) return(invisible(fit))
  # intermediate quantities so the moment-level code can be tested on its own
  implied <- lavInspect(fit, "implied")
  h1 <- lavInspect(fit, "h1")
  extra <- list(
    ov = lavNames(fit, "ov"),
    theta = unname(coef(fit)),
    implied_cov = mat(implied$cov),
    implied_mean = if (is.null(implied$mean)) NULL else unname(implied$mean),
    h1_cov = mat(h1$cov),
    h1_mean = if (is.null(h1$mean)) NULL else unname(h1$mean),
    delta = mat(lavInspect(fit, "delta")),
    vcov = mat(vcov(fit)),
    information = mat(lavInspect(fit, "information")),
    information_first_order = mat(lavInspect(fit, "information.first.order"))
  )
  writeLines(toJSON(extra, digits = NA, auto_unbox = TRUE, null = "null"),
             file.path(out_dir, paste0(name, "_extra.json")))
  invisible(fit)
}

hs_model <- "visual =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed =~ x7 + x8 + x9"

pd_model <- "ind60 =~ x1 + x2 + x3
dem60 =~ y1 + y2 + y3 + y4
dem65 =~ y5 + y6 + y7 + y8
dem60 ~ ind60
dem65 ~ ind60 + dem60
y1 ~~ y5
y2 ~~ y4 + y6
y3 ~~ y7
y4 ~~ y8
y6 ~~ y8"

# complete data, MLR (lavaan defaults: observed information via the Hessian,
# Huber-White SEs, Yuan-Bentler (Mplus variant) scaled test)
write_case("hs_mlr", cfa(hs_model, HolzingerSwineford1939, estimator = "MLR"))
write_case("pd_mlr", sem(pd_model, PoliticalDemocracy, estimator = "MLR"))
# exogenous observed covariates (fixed.x = TRUE); grade has one missing value
hs_x <- HolzingerSwineford1939[complete.cases(HolzingerSwineford1939[, c("ageyr", "grade")]), ]
write_case("hs_mlr_fixedx", sem("visual =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
visual ~ ageyr + grade
textual ~ grade", hs_x, estimator = "MLR"), extra = FALSE)

# HS with a fixed MCAR mask: FIML with ML and with MLR
hs_mcar <- read.csv(file.path(out_dir, "hs_mcar.csv"))
write_case("hs_fiml_ml", cfa(hs_model, hs_mcar, missing = "ml"))
write_case("hs_fiml_mlr", cfa(hs_model, hs_mcar, missing = "ml",
                              estimator = "MLR"))

# multi-group (by school, configural): MLR on complete data and FIML + MLR
write_case("hs_mlr_school", cfa(hs_model, HolzingerSwineford1939, group = "school",
                                estimator = "MLR"), extra = FALSE)
write_case("hs_fiml_mlr_school", cfa(hs_model, hs_mcar, group = "school",
                                     missing = "ml", estimator = "MLR"), extra = FALSE)

# the compendium's synthetic survey with its chain model
survey_csv <- file.path(out_dir, "survey_recoded.csv")
chain_lav <- file.path(out_dir, "chain.lav")
if (file.exists(survey_csv) && file.exists(chain_lav)) {
  survey <- read.csv(survey_csv)
  chain <- paste(readLines(chain_lav), collapse = "\n")
  write_case("survey_fiml_ml", sem(chain, survey, missing = "ml"), extra = FALSE)
  write_case("survey_fiml_mlr", sem(chain, survey, missing = "ml",
                                    estimator = "MLR"), extra = FALSE)
}

# modification indices of the FIML fits of HS with the MCAR mask (score tests from the FIML
# likelihood; modindices() uses the expected information whatever the fit's information).
# All candidates, sorted; MLR is written too to document that lavaan reports the same MIs.
mi_cols <- c("lhs", "op", "rhs", "mi", "epc", "sepc.all")
hs_mi <- do.call(rbind, lapply(c("ML", "MLR"), function(est) {
  mi <- modindices(cfa(hs_model, hs_mcar, missing = "ml", estimator = est), sort. = TRUE)
  data.frame(estimator = est, mi[, mi_cols])
}))
write.csv(hs_mi, file.path(out_dir, "hs_fiml_modindices.csv"), row.names = FALSE)
mi_g <- modindices(cfa(hs_model, hs_mcar, group = "school", missing = "ml"), sort. = TRUE)
write.csv(mi_g[, c("lhs", "op", "rhs", "group", "mi", "epc", "sepc.all")],
          file.path(out_dir, "hs_fiml_school_modindices.csv"), row.names = FALSE)
