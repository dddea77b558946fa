"""bob: typical mistakes (see the comments)."""

# %% residual_block
class Block(nn.Module):
    def __init__(self, c_in, c_out, stride):
        super().__init__()
        # mistake: downsamples in the second convolution (shapes and counts still fit)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(c_out))

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        return F.relu(self.bn2(self.conv2(Y)) + self.shortcut(X))


def residual_block(c_in, c_out, stride=1):
    return Block(c_in, c_out, stride)

# %% batch_norm_2d
def batch_norm_2d(X, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    C = X.shape[1]
    if training:
        if X.numel() == C:
            raise ValueError("one value per channel")
        mean = X.mean(dim=(0, 2, 3))
        var = X.var(dim=(0, 2, 3), unbiased=False)
        # mistake: the running variance gets the biased variance too
        running_mean = (1 - momentum) * running_mean + momentum * mean
        running_var = (1 - momentum) * running_var + momentum * var
    else:
        mean, var = running_mean, running_var
    Y = (X - mean[None, :, None, None]) / torch.sqrt(var[None, :, None, None] + eps)
    return gamma[None, :, None, None] * Y + beta[None, :, None, None], running_mean, running_var

# %% replace_head
def replace_head(model, num_classes, head="fc"):
    # correct
    setattr(model, head, nn.Linear(getattr(model, head).in_features, num_classes))
    return model

# %% freeze_backbone
def freeze_backbone(model, head="fc"):
    # mistake: freezes the backbone but never makes a frozen head trainable again
    for name, p in model.named_parameters():
        if not name.startswith(head + "."):
            p.requires_grad = False
    return model

# %% count_trainable
def count_trainable(model):
    # correct
    return sum(p.numel() for p in model.parameters() if p.requires_grad)

# %% param_groups
def param_groups(model, lr_backbone, lr_head, head="fc"):
    # mistake: "fc0" starts with "fc", so it lands in the head's group
    backbone = [p for n, p in model.named_parameters() if not n.startswith(head)]
    head_params = [p for n, p in model.named_parameters() if n.startswith(head)]
    return [{"params": backbone, "lr": lr_backbone}, {"params": head_params, "lr": lr_head}]

# %% fine_tune
def fine_tune(model, train_loader, num_epochs, lr_backbone, lr_head, head="fc"):
    optimizer = torch.optim.Adam(param_groups(model, lr_backbone, lr_head, head))
    history = []
    for _ in range(num_epochs):
        model.train()
        losses = []
        for X, y in train_loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(X), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        # mistake: the mean of the batch means (a smaller last batch counts as much as a full one)
        history.append(sum(losses) / len(losses))
    return history
