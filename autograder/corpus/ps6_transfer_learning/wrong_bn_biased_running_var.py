"""batch_norm_2d that updates the running variance with the biased batch variance."""
# kind: wrong
# fails: test_batch_norm_2d_training test_batch_norm_2d_random

# %% batch_norm_2d
def batch_norm_2d(X, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    N, C, H, W = X.shape
    if training:
        if N * H * W == 1:
            raise ValueError("more than one value per channel needed")
        mean = X.mean(dim=(0, 2, 3))
        var = X.var(dim=(0, 2, 3), unbiased=False)
        running_mean = (1 - momentum) * running_mean + momentum * mean
        running_var = (1 - momentum) * running_var + momentum * var
    else:
        mean, var = running_mean, running_var
    Y = (X - mean.view(1, C, 1, 1)) / torch.sqrt(var.view(1, C, 1, 1) + eps)
    return gamma.view(1, C, 1, 1) * Y + beta.view(1, C, 1, 1), running_mean, running_var
