"""Own nn.Module registered in another order with in-place ReLUs, var_mean with in-place running updates, getattr/setattr, id sets, an extra random draw."""
# kind: correct

# %% residual_block
class BasicResidual(nn.Module):
    def __init__(self, c_in, c_out, stride):
        super().__init__()
        # the shortcut first and the second conv before the first: names and order are free
        self.proj = None
        if stride != 1 or c_in != c_out:
            self.proj = nn.Conv2d(c_in, c_out, 1, stride, bias=False)
            self.proj_bn = nn.BatchNorm2d(c_out)
        self.b = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.b_bn = nn.BatchNorm2d(c_out)
        self.a = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.a_bn = nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, X):
        skip = X if self.proj is None else self.proj_bn(self.proj(X))
        out = self.relu(self.a_bn(self.a(X)))
        out = self.b_bn(self.b(out))
        out += skip
        return self.relu(out)


def residual_block(c_in, c_out, stride=1):
    return BasicResidual(c_in, c_out, stride)

# %% batch_norm_2d
def batch_norm_2d(X, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    C = X.shape[1]
    if training:
        count = X.numel() // C
        if count == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got {tuple(X.shape)}")
        var, mean = torch.var_mean(X, dim=(0, 2, 3), unbiased=False)
        with torch.no_grad():  # in place, as nn.BatchNorm2d does with its buffers
            running_mean.mul_(1 - momentum).add_(momentum * mean)
            running_var.mul_(1 - momentum).add_(momentum * var * count / (count - 1))
    else:
        mean, var = running_mean, running_var
    scale = gamma / torch.sqrt(var + eps)
    shift = beta - mean * scale
    return X * scale[None, :, None, None] + shift[None, :, None, None], running_mean, running_var

# %% replace_head
def replace_head(model, num_classes, head="fc"):
    old = getattr(model, head)
    new = nn.Linear(old.in_features, num_classes).to(old.weight.device)
    setattr(model, head, new)
    return model

# %% freeze_backbone
def freeze_backbone(model, head="fc"):
    for p in model.parameters():
        p.requires_grad = False
    for p in getattr(model, head).parameters():
        p.requires_grad = True
    return model

# %% count_trainable
def count_trainable(model):
    return int(sum(p.numel() for p in filter(lambda p: p.requires_grad, model.parameters())))

# %% param_groups
def param_groups(model, lr_backbone, lr_head, head="fc"):
    head_ids = set(map(id, getattr(model, head).parameters()))
    return [
        {"params": [p for p in model.parameters() if id(p) not in head_ids], "lr": lr_backbone},
        {"params": [p for p in model.parameters() if id(p) in head_ids], "lr": lr_head},
    ]

# %% fine_tune
def fine_tune(model, train_loader, num_epochs, lr_backbone, lr_head, head="fc"):
    torch.rand(3)  # a student's stray random draw changes nothing that is graded
    optimizer = torch.optim.Adam(param_groups(model, lr_backbone=lr_backbone, lr_head=lr_head, head=head))
    history = []
    for _ in range(num_epochs):
        model.train()
        running, count = torch.zeros(()), 0
        for X, y in train_loader:
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(X), y)
            loss.backward()
            optimizer.step()
            running += loss.detach() * X.shape[0]
            count += X.shape[0]
        history.append(float(running / count))
    return history
