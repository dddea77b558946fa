"""ModuleDict block with an empty nn.Sequential as identity, batch norm channel by channel, register_module, requires_grad_ on modules, groups built inside fine_tune."""
# kind: correct

# %% residual_block
class Block(nn.Module):
    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.layers = nn.ModuleDict({
            "conv1": nn.Conv2d(c_in, c_out, (3, 3), stride=(stride, stride), padding=(1, 1), bias=False),
            "bn1": nn.BatchNorm2d(c_out),
            "conv2": nn.Conv2d(c_out, c_out, (3, 3), padding=(1, 1), bias=False),
            "bn2": nn.BatchNorm2d(c_out),
        })
        self.skip = nn.Sequential()  # an empty Sequential passes X through
        if (c_in, stride) != (c_out, 1):
            self.skip = nn.Sequential(nn.Conv2d(c_in, c_out, (1, 1), stride=(stride, stride), bias=False),
                                      nn.BatchNorm2d(c_out))

    def forward(self, X):
        L = self.layers
        Y = torch.relu(L["bn1"](L["conv1"](X)))
        return torch.relu(L["bn2"](L["conv2"](Y)) + self.skip(X))


def residual_block(c_in, c_out, stride=1):
    return Block(c_in, c_out, stride)

# %% batch_norm_2d
def batch_norm_2d(X, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    outputs, means, variances = [], [], []
    for c in range(X.shape[1]):
        values = X[:, c]  # (N, H, W)
        if training:
            n = values.numel()
            if n <= 1:
                raise ValueError("batch norm needs more than one value per channel when training")
            mu = values.mean()
            var = ((values - mu) ** 2).mean()
            means.append((1 - momentum) * running_mean[c] + momentum * mu)
            variances.append((1 - momentum) * running_var[c] + momentum * var * (n / (n - 1)))
        else:
            mu, var = running_mean[c], running_var[c]
            means.append(running_mean[c])
            variances.append(running_var[c])
        outputs.append(gamma[c] * (values - mu) / torch.sqrt(var + eps) + beta[c])
    return torch.stack(outputs, dim=1), torch.stack(means), torch.stack(variances)

# %% replace_head
def replace_head(model, num_classes, head="fc"):
    in_features = dict(model.named_children())[head].in_features
    model.register_module(head, nn.Linear(in_features, num_classes))
    return model

# %% freeze_backbone
def freeze_backbone(model, head="fc"):
    model.requires_grad_(False)
    getattr(model, head).requires_grad_(True)
    return model

# %% count_trainable
def count_trainable(model):
    return sum(map(torch.numel, (p for p in model.parameters() if p.requires_grad)))

# %% param_groups
def param_groups(model, lr_backbone, lr_head, head="fc"):
    head_module = getattr(model, head)
    head_params = [p for p in head_module.parameters()]
    backbone = [p for p in model.parameters() if all(p is not q for q in head_params)]
    return [{"params": backbone, "lr": lr_backbone, "name": "backbone"},
            {"params": head_params, "lr": lr_head, "name": head}]

# %% fine_tune
def fine_tune(model, train_loader, num_epochs, lr_backbone, lr_head, head="fc"):
    head_ids = {id(p) for p in getattr(model, head).parameters()}
    groups = [{"params": [p for p in model.parameters() if id(p) not in head_ids], "lr": lr_backbone},
              {"params": [p for p in model.parameters() if id(p) in head_ids], "lr": lr_head}]
    optimizer = torch.optim.Adam(groups, lr=1.0)  # each group's own lr wins over the default
    epoch_losses = []
    for _ in range(num_epochs):
        model.train()
        losses, sizes = [], []
        for X, y in train_loader:
            y_hat = model(X)
            loss = nn.functional.cross_entropy(y_hat, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            sizes.append(len(X))
        epoch_losses.append(sum(l * s for l, s in zip(losses, sizes)) / sum(sizes))
    return epoch_losses
