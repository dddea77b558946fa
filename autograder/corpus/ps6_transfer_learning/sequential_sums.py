"""nn.Sequential around a small Add module, batch norm from sums, helpers by parameter names, loss summed per batch."""
# kind: correct

# %% residual_block
class AddShortcut(nn.Module):
    """main(X) + shortcut(X): the one piece an nn.Sequential cannot express."""

    def __init__(self, main, shortcut):
        super().__init__()
        self.main = main
        self.shortcut = shortcut

    def forward(self, X):
        return self.main(X) + self.shortcut(X)


def residual_block(c_in, c_out, stride=1):
    main = nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel_size=3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(),
        nn.Conv2d(c_out, c_out, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(c_out))
    if stride == 1 and c_in == c_out:
        shortcut = nn.Identity()
    else:
        shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, kernel_size=1, stride=stride, bias=False),
                                 nn.BatchNorm2d(c_out))
    return nn.Sequential(AddShortcut(main, shortcut), nn.ReLU())

# %% batch_norm_2d
def batch_norm_2d(X, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    N, C, H, W = X.shape
    shape = (1, C, 1, 1)
    if not training:
        Y = (X - running_mean.view(shape)) / (running_var.view(shape) + eps).sqrt()
        return gamma.view(shape) * Y + beta.view(shape), running_mean, running_var
    n = N * H * W
    if n < 2:
        raise ValueError("need more than one value per channel to train batch norm")
    mean = X.sum(dim=(0, 2, 3)) / n
    centered = X - mean.view(shape)
    squares = (centered ** 2).sum(dim=(0, 2, 3))
    var = squares / n
    Y = centered / (var.view(shape) + eps).sqrt()
    new_mean = running_mean + momentum * (mean - running_mean)
    new_var = running_var + momentum * (squares / (n - 1) - running_var)
    return gamma.view(shape) * Y + beta.view(shape), new_mean, new_var

# %% replace_head
def replace_head(model, num_classes, head="fc"):
    old = model.get_submodule(head)
    model.add_module(head, nn.Linear(old.in_features, num_classes, bias=True))
    return model

# %% freeze_backbone
def freeze_backbone(model, head="fc"):
    for name, p in model.named_parameters():
        p.requires_grad = name.split(".")[0] == head
    return model

# %% count_trainable
def count_trainable(model):
    total = 0
    for _, p in model.named_parameters():
        if p.requires_grad:
            total += p.numel()
    return total

# %% param_groups
def param_groups(model, lr_backbone, lr_head, head="fc"):
    backbone, head_params = [], []
    for name, p in model.named_parameters():
        (head_params if name.split(".")[0] == head else backbone).append(p)
    return [dict(params=backbone, lr=lr_backbone), dict(params=head_params, lr=lr_head)]

# %% fine_tune
def fine_tune(model, train_loader, num_epochs, lr_backbone, lr_head, head="fc"):
    optimizer = torch.optim.Adam(param_groups(model, lr_backbone, lr_head, head))
    loss_fn = nn.CrossEntropyLoss(reduction="sum")
    model.train()
    losses = []
    for epoch in range(num_epochs):
        epoch_loss = 0.0
        for X, y in train_loader:
            loss = loss_fn(model(X), y)
            optimizer.zero_grad()
            (loss / len(y)).backward()
            optimizer.step()
            epoch_loss += loss.item()
        losses.append(epoch_loss / len(train_loader.dataset))
    return losses
