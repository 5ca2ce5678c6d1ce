#!/usr/bin/env Rscript
# Reference numbers for analysis.methods.reliability and analysis.methods.weighting (tests read the CSVs this
# script writes to tests/reference/psych/; they never call R).
#
# Data: psych::bfi (SAPA project, Revelle; 2800 respondents, 25 six-point items, with missing
# values) and lavaan::PoliticalDemocracy (Bollen 1989). Both are public and ship with the packages.
# Run from the repository root:  Rscript tests/reference/psych_reference.R
suppressPackageStartupMessages({
  library(psych)
  library(lavaan)
  library(semTools)
})
out <- "tests/reference/psych"
dir.create(out, showWarnings = FALSE, recursive = TRUE)
wcsv <- function(df, name) write.csv(df, file.path(out, name), row.names = FALSE)

data(bfi, package = "psych")
items <- bfi[, 1:25]
wcsv(cbind(id = seq_len(nrow(items)), items), "bfi_items.csv")
# psych's scoring key: these items are negatively keyed; reverse on the 1..6 scale as 7 - x.
reversed <- c("A1", "C4", "C5", "E1", "E2", "O2", "O5")
x <- items
x[reversed] <- 7 - x[reversed]
scales <- list(A = paste0("A", 1:5), C = paste0("C", 1:5), E = paste0("E", 1:5),
               N = paste0("N", 1:5), O = paste0("O", 1:5))

# --- Cronbach's alpha (pairwise-complete covariances), item statistics, alpha if deleted ---
tot <- list(); its <- list(); om <- list(); fa1 <- list()
for (s in names(scales)) {
  xs <- x[, scales[[s]]]
  a <- psych::alpha(xs, warnings = FALSE)
  tot[[s]] <- data.frame(scale = s, raw_alpha = a$total$raw_alpha, std_alpha = a$total$std.alpha)
  its[[s]] <- data.frame(scale = s, item = rownames(a$item.stats), n = a$item.stats$n,
                         mean = a$item.stats$mean, sd = a$item.stats$sd,
                         r_drop = a$item.stats$r.drop, alpha_drop = a$alpha.drop$raw_alpha)
  # omega total from a one-factor minres model (psych::omega, Vt = sum of the pairwise R)
  o <- suppressWarnings(suppressMessages(psych::omega(xs, nfactors = 1, plot = FALSE)))
  f <- psych::fa(xs, nfactors = 1, fm = "minres", warnings = FALSE)
  om[[s]] <- data.frame(scale = s, omega_tot = o$omega.tot)
  fa1[[s]] <- data.frame(scale = s, item = scales[[s]], loading = as.numeric(f$loadings[, 1]),
                         u2 = as.numeric(f$uniquenesses))
}
wcsv(do.call(rbind, tot), "alpha_total.csv")
wcsv(do.call(rbind, its), "alpha_items.csv")
wcsv(do.call(rbind, om), "omega_total.csv")
wcsv(do.call(rbind, fa1), "fa1_loadings.csv")

# --- describe: skew and kurtosis, psych's default type 3 ---
d <- psych::describe(x, type = 3)
wcsv(data.frame(item = rownames(d), n = d$n, mean = d$mean, sd = d$sd, skew = d$skew,
                kurtosis = d$kurtosis), "describe.csv")

# --- KMO and Bartlett on the pairwise correlation matrix of all 25 items ---
R <- cor(x, use = "pairwise")
k <- psych::KMO(x)
wcsv(data.frame(item = c("overall", names(k$MSAi)), msa = c(k$MSA, as.numeric(k$MSAi))), "kmo.csv")
b <- psych::cortest.bartlett(R, n = nrow(x))
wcsv(data.frame(n = nrow(x), chisq = b$chisq, df = b$df, p_value = b$p.value), "bartlett.csv")

# --- EFA: five factors, minres, oblimin (GPArotation, no Kaiser normalisation) ---
f5 <- psych::fa(x, nfactors = 5, fm = "minres", rotate = "oblimin", warnings = FALSE)
L <- unclass(f5$loadings)
wcsv(data.frame(item = rownames(L), L), "fa5_loadings.csv")
wcsv(data.frame(factor = colnames(f5$Phi), f5$Phi), "fa5_phi.csv")
wcsv(data.frame(item = names(f5$communality), h2 = as.numeric(f5$communality)), "fa5_h2.csv")
# unrotated minres solution, to check extraction separately from rotation
f5u <- psych::fa(x, nfactors = 5, fm = "minres", rotate = "none", warnings = FALSE)
wcsv(data.frame(item = rownames(f5u$loadings), unclass(f5u$loadings)), "fa5_unrotated.csv")
wcsv(data.frame(eigen_pc = eigen(R)$values,
                eigen_fa = psych::fa(x, nfactors = 1, fm = "minres", warnings = FALSE)$values),
     "eigen_pc.csv")
# parallel analysis is random; its suggestion for bfi is stable across seeds (6 and 6)
set.seed(20251127)
pa <- psych::fa.parallel(x, fm = "minres", plot = FALSE)
wcsv(data.frame(nfact = pa$nfact, ncomp = pa$ncomp), "fa_parallel.csv")

# --- CFA (lavaan, ML, listwise) on the five bfi scales: std loadings, AVE, CR, HTMT ---
cfa_model <- paste(sapply(names(scales), function(s)
  paste(s, "=~", paste(scales[[s]], collapse = " + "))), collapse = "\n")
fit <- lavaan::cfa(cfa_model, data = x, missing = "listwise", std.lv = FALSE)
pe <- lavaan::standardizedSolution(fit)
wcsv(pe[, c("lhs", "op", "rhs", "est.std")], "cfa_std.csv")
ave <- semTools::AVE(fit)
cr_mod <- semTools::compRelSEM(fit, obs.var = FALSE)
wcsv(data.frame(factor = names(ave), ave = as.numeric(ave),
                cr_model_unstd = as.numeric(cr_mod[names(ave)])), "cfa_ave.csv")
h1 <- semTools::htmt(cfa_model, data = x, missing = "listwise", htmt2 = FALSE)
h2 <- semTools::htmt(cfa_model, data = x, missing = "listwise", htmt2 = TRUE)
wcsv(data.frame(factor = rownames(h1), unclass(h1)), "htmt.csv")
wcsv(data.frame(factor = rownames(h2), unclass(h2)), "htmt2.csv")

# --- Total effects for path-based weights: Bollen's political democracy model ---
pd_model <- "
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + y2 + y3 + y4
  dem65 =~ y5 + y6 + y7 + y8
  dem60 ~ a*ind60
  dem65 ~ c*ind60 + b*dem60
  y1 ~~ y5
  y2 ~~ y4 + y6
  y3 ~~ y7
  y4 ~~ y8
  y6 ~~ y8
  total_ind60 := c + a*b
  total_dem60 := b
"
pd <- lavaan::sem(pd_model, data = PoliticalDemocracy)
pe <- lavaan::parameterEstimates(pd, standardized = TRUE)
wcsv(pe[, c("lhs", "op", "rhs", "label", "est", "se", "std.all")], "pd_estimates.csv")

# --- The compendium's synthetic survey (data/raw/survey.csv, codebook.csv) ---
# Declared missing codes -> NA, reverse-worded items -> (min + max) - x, as
# analysis.io.survey.load_survey does; then alpha and omega per construct.
cb <- read.csv("data/raw/codebook.csv", stringsAsFactors = FALSE, encoding = "UTF-8")
sv <- read.csv("data/raw/survey.csv", stringsAsFactors = FALSE)
for (i in seq_len(nrow(cb))) {
  it <- cb$item[i]
  codes <- as.numeric(strsplit(as.character(cb$missing_codes[i]), "[;,]")[[1]])
  v <- sv[[it]]
  v[v %in% codes] <- NA
  if (tolower(as.character(cb$reverse[i])) %in% c("true", "1", "yes"))
    v <- (cb$scale_min[i] + cb$scale_max[i]) - v
  sv[[it]] <- v
}
rel <- list()
for (s in unique(cb$construct)) {
  xs <- sv[, cb$item[cb$construct == s]]
  a <- psych::alpha(xs, warnings = FALSE)
  o <- suppressWarnings(suppressMessages(psych::omega(xs, nfactors = 1, plot = FALSE)))
  rel[[s]] <- data.frame(construct = s, raw_alpha = a$total$raw_alpha,
                         std_alpha = a$total$std.alpha, omega_tot = o$omega.tot)
}
wcsv(do.call(rbind, rel), "survey_reliability.csv")
