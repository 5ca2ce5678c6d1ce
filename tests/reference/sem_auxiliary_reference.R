# Reference numbers for analysis.sem's FIML with auxiliary variables (saturated correlates,
# Graham 2003) as semTools' sem.auxiliary() / cfa.auxiliary() fit them (semTools 0.5-6,
# lavaan 0.6-14).
#
# Run from the repository root (after tests/reference/sem_auxiliary_inputs.py):
#   Rscript tests/reference/sem_auxiliary_reference.R
# Writes tests/reference/sem_auxiliary/<case>_{est.csv,fit.json} and versions.json.
# The tests read these committed files and never call R.
#
# semTools' auxiliary() fits the model with missing = "fiml", fixed.x = FALSE,
# meanstructure = TRUE, every auxiliary correlated with the other auxiliaries and with every
# observed variable of the model (for an endogenous one: with its residual), auxiliary means
# and variances free. Its fitMeasures() use the baseline model stored in
# @external$baseline.model: the auxiliaries' saturated part (as above), the model's observed
# variables with free means and variances and no covariances among themselves.
suppressMessages(library(lavaan))
suppressMessages(library(semTools))
suppressMessages(library(jsonlite))

out_dir <- file.path("tests", "reference", "sem_auxiliary")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

fit_names <- c("npar", "ntotal", "chisq", "df", "pvalue", "baseline.chisq",
               "baseline.df", "baseline.pvalue", "cfi", "tli", "rmsea", "rmsea.ci.lower",
               "rmsea.ci.upper", "srmr", "logl", "unrestricted.logl", "aic",
               "bic", "chisq.scaled", "df.scaled", "pvalue.scaled",
               "chisq.scaling.factor", "baseline.chisq.scaled",
               "baseline.chisq.scaling.factor", "cfi.robust", "tli.robust",
               "rmsea.robust", "rmsea.ci.lower.robust", "rmsea.ci.upper.robust")

write_case <- function(name, fit) {
  pe <- parameterEstimates(fit, ci = FALSE, zstat = FALSE, pvalue = FALSE,
                           remove.nonfree = FALSE, standardized = TRUE)
  cols <- intersect(c("lhs", "op", "rhs", "group", "label", "est", "se", "std.all"),
                    names(pe))
  write.csv(pe[, cols], file.path(out_dir, paste0(name, "_est.csv")), row.names = FALSE)
  fm <- suppressWarnings(fitMeasures(fit))
  keep <- intersect(fit_names, names(fm))
  fit_list <- as.list(setNames(as.numeric(fm[keep]), keep))
  base <- fit@external$baseline.model
  fit_list$baseline.npar <- as.numeric(fitMeasures(base, "npar"))
  fit_list$baseline.logl <- as.numeric(fitMeasures(base, "logl"))
  writeLines(toJSON(fit_list, digits = NA, auto_unbox = TRUE, pretty = TRUE),
             file.path(out_dir, paste0(name, "_fit.json")))
  invisible(fit)
}

hs_model <- "visual =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed =~ x7 + x8 + x9"
hs <- read.csv(file.path(out_dir, "hs_mar.csv"))

# HS, x4..x8 MAR given ageyr; ageyr the auxiliary
hs_aux_ml <- write_case("hs_aux_ml", cfa.auxiliary(hs_model, hs, aux = "ageyr"))
# its modification indices (FIML score tests; all candidates, sorted)
mi <- modindices(hs_aux_ml, sort. = TRUE)
write.csv(mi[, c("lhs", "op", "rhs", "mi", "epc", "sepc.all")],
          file.path(out_dir, "hs_aux_ml_modindices.csv"), row.names = FALSE)
write_case("hs_aux_mlr", cfa.auxiliary(hs_model, hs, aux = "ageyr", estimator = "MLR"))
# two auxiliaries, one of them (grade) with a missing value
write_case("hs_aux2_ml", cfa.auxiliary(hs_model, hs, aux = c("ageyr", "grade")))
# multi-group (configural, by school) with MLR
write_case("hs_aux_school_mlr", cfa.auxiliary(hs_model, hs, aux = "ageyr",
                                              group = "school", estimator = "MLR"))
# metric and scalar invariance (ML): the auxiliaries' means stay free in every group
write_case("hs_aux_school_scalar", cfa.auxiliary(hs_model, hs, aux = "ageyr",
                                                 group = "school",
                                                 group.equal = c("loadings", "intercepts")))
# exogenous observed covariates (sex, and grade with one missing value): fixed.x = FALSE, so
# their means, variances and covariance are free parameters; with MLR
write_case("hs_aux_regression_mlr", sem.auxiliary("visual =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
visual ~ sex + grade
textual ~ sex + visual", hs, aux = "ageyr", estimator = "MLR"))
# plain FIML on the same data, for the tests' "auxiliaries change the estimates" check
pe0 <- parameterEstimates(cfa(hs_model, hs, missing = "ml"), ci = FALSE, zstat = FALSE,
                          pvalue = FALSE, remove.nonfree = FALSE)
write.csv(pe0[, c("lhs", "op", "rhs", "est", "se")], file.path(out_dir, "hs_fiml_est.csv"),
          row.names = FALSE)

# the compendium's synthetic survey with its chain model, age the auxiliary
survey <- read.csv(file.path(out_dir, "survey_aux.csv"))
chain <- paste(readLines(file.path(out_dir, "chain.lav")), collapse = "\n")
write_case("survey_aux_ml", sem.auxiliary(chain, survey, aux = "age"))
write_case("survey_aux_mlr", sem.auxiliary(chain, survey, aux = "age", estimator = "MLR"))

versions <- list(lavaan = as.character(packageVersion("lavaan")),
                 semTools = as.character(packageVersion("semTools")),
                 R = paste(R.version$major, R.version$minor, sep = "."))
writeLines(toJSON(versions, auto_unbox = TRUE, pretty = TRUE),
           file.path(out_dir, "versions.json"))
