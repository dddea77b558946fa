"""carol: lets the library do the work (torchvision's BasicBlock, F.batch_norm, cnnkit.transfer) and trains everything at one learning rate."""

# %% residual_block
from torchvision.models.resnet import BasicBlock


def residual_block(c_in, c_out, stride=1):
    downsample = None
    if stride != 1 or c_in != c_out:
        downsample = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False),
                                   nn.BatchNorm2d(c_out))
    return BasicBlock(c_in, c_out, stride=stride, downsample=downsample)

# %% batch_norm_2d
def batch_norm_2d(X, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    Y = F.batch_norm(X, running_mean, running_var, gamma, beta, training, momentum, eps)
    return Y, running_mean, running_var

# %% replace_head
from cnnkit import transfer


def replace_head(model, num_classes, head="fc"):
    return transfer.replace_head(model, num_classes)

# %% freeze_backbone
def freeze_backbone(model, head="fc"):
    return transfer.freeze(model, except_=head)

# %% count_trainable
def count_trainable(model):
    return transfer.count_parameters(model).trainable

# %% param_groups
def param_groups(model, lr_backbone, lr_head, head="fc"):
    groups = transfer.param_groups(model, {head: lr_head}, default_lr=lr_backbone)
    return sorted(groups, key=lambda g: g["name"] == head)  # the backbone ("default") first

# %% fine_tune
def fine_tune(model, train_loader, num_epochs, lr_backbone, lr_head, head="fc"):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr_head)  # one rate for everything
    history = []
    for _ in range(num_epochs):
        model.train()
        total, seen = 0.0, 0
        for X, y in train_loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(X), y)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(y)
            seen += len(y)
        history.append(total / seen)
    return history
