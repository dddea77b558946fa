"""batch_norm_2d that calls F.batch_norm on copies of the running statistics (right values, forbidden route)."""
# kind: wrong
# fails: test_batch_norm_2d_training test_batch_norm_2d_random

# %% batch_norm_2d
def batch_norm_2d(X, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    new_mean, new_var = running_mean.clone(), running_var.clone()
    Y = F.batch_norm(X, new_mean, new_var, gamma, beta, training, momentum, eps)
    return Y, new_mean, new_var
