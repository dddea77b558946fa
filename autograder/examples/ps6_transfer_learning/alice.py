"""alice: correct everywhere, written differently from the solution."""

# %% residual_block
class ResidualBlock(nn.Module):
    def __init__(self, c_in, c_out, stride=1):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c_in, c_out, kernel_size=3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
            nn.Conv2d(c_out, c_out, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
        )
        needs_projection = stride != 1 or c_in != c_out
        self.shortcut = (nn.Sequential(nn.Conv2d(c_in, c_out, kernel_size=1, stride=stride, bias=False),
                                       nn.BatchNorm2d(c_out))
                         if needs_projection else nn.Identity())

    def forward(self, X):
        return torch.relu(self.body(X) + self.shortcut(X))


def residual_block(c_in, c_out, stride=1):
    return ResidualBlock(c_in, c_out, stride)

# %% batch_norm_2d
def batch_norm_2d(X, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    N, C, H, W = X.shape
    as_4d = lambda v: v.reshape(1, C, 1, 1)  # noqa: E731
    if training:
        n = N * H * W
        if n == 1:
            raise ValueError("cannot estimate a variance from one value per channel")
        mu = X.mean(dim=(0, 2, 3))
        sigma2 = ((X - as_4d(mu)) ** 2).mean(dim=(0, 2, 3))
        running_mean = momentum * mu + (1 - momentum) * running_mean
        running_var = momentum * sigma2 * n / (n - 1) + (1 - momentum) * running_var
    else:
        mu, sigma2 = running_mean, running_var
    X_hat = (X - as_4d(mu)) / torch.sqrt(as_4d(sigma2) + eps)
    return as_4d(gamma) * X_hat + as_4d(beta), running_mean, running_var

# %% replace_head
def replace_head(model, num_classes, head="fc"):
    old_head = getattr(model, head)
    setattr(model, head, nn.Linear(old_head.in_features, num_classes))
    return model

# %% freeze_backbone
def freeze_backbone(model, head="fc"):
    model.requires_grad_(False)
    getattr(model, head).requires_grad_(True)
    return model

# %% count_trainable
def count_trainable(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)

# %% param_groups
def param_groups(model, lr_backbone, lr_head, head="fc"):
    head_params = list(getattr(model, head).parameters())
    is_head = {id(p) for p in head_params}
    backbone = [p for p in model.parameters() if id(p) not in is_head]
    return [{"params": backbone, "lr": lr_backbone}, {"params": head_params, "lr": lr_head}]

# %% fine_tune
def fine_tune(model, train_loader, num_epochs, lr_backbone, lr_head, head="fc"):
    optimizer = torch.optim.Adam(param_groups(model, lr_backbone, lr_head, head))
    losses = []
    for epoch in range(num_epochs):
        model.train()
        loss_sum, n = 0.0, 0
        for X, y in train_loader:
            loss = F.cross_entropy(model(X), y, reduction="sum")
            optimizer.zero_grad()
            (loss / len(y)).backward()
            optimizer.step()
            loss_sum += loss.item()
            n += len(y)
        losses.append(loss_sum / n)
    return losses
