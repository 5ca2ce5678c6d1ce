# Reference numbers for analysis.methods.method_variance (lavaan 0.6-14).
# Run from the repository root: Rscript tests/reference/method_variance_reference.R
# Data: tests/reference/method_variance/ulmc.csv, three correlated constructs of four items with a
# shared method factor (loadings .2-.6), written by tests/reference/method_variance_inputs.py.
suppressMessages(library(lavaan))
d <- read.csv("tests/reference/method_variance/ulmc.csv")
traits <- "A =~ a1 + a2 + a3 + a4\nB =~ b1 + b2 + b3 + b4\nC =~ c1 + c2 + c3 + c4"
ulmc <- paste(traits,
  "METHOD =~ NA*a1 + a2 + a3 + a4 + b1 + b2 + b3 + b4 + c1 + c2 + c3 + c4",
  "METHOD ~~ 1*METHOD", "METHOD ~~ 0*A + 0*B + 0*C", sep = "\n")
f0 <- cfa(traits, d)
f1 <- cfa(ulmc, d)
out <- data.frame(model = c("traits", "traits + method"),
                  chisq = c(fitMeasures(f0, "chisq"), fitMeasures(f1, "chisq")),
                  df = c(fitMeasures(f0, "df"), fitMeasures(f1, "df")),
                  cfi = c(fitMeasures(f0, "cfi"), fitMeasures(f1, "cfi")))
write.csv(out, "tests/reference/method_variance/ulmc_fit.csv", row.names = FALSE)
s <- standardizedSolution(f1)
s <- s[s$op == "=~", c("lhs", "rhs", "est.std")]
write.csv(s, "tests/reference/method_variance/ulmc_std_loadings.csv", row.names = FALSE)
a <- anova(f0, f1)
write.csv(data.frame(chisq_diff = a$`Chisq diff`[2], df_diff = a$`Df diff`[2],
                     p_diff = a$`Pr(>Chisq)`[2]),
          "tests/reference/method_variance/ulmc_lrt.csv", row.names = FALSE)
