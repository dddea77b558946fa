"""train_variant that averages the batches' mean losses: the last, smaller batch weighs too much."""
# kind: wrong
# fails: test_train_variant_history_values

# %% train_variant
def train_variant(model, train_loader, num_epochs, lr, device):
    model = model.to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    history = {"train_loss": [], "train_acc": []}
    for _ in range(num_epochs):
        model.train()
        batch_losses, correct, seen = [], 0, 0
        for X, y in train_loader:
            X, y = X.to(device), y.to(device)
            optimizer.zero_grad()
            y_hat = model(X)
            loss = nn.functional.cross_entropy(y_hat, y)
            loss.backward()
            optimizer.step()
            batch_losses.append(loss.item())
            correct += (y_hat.argmax(1) == y).sum().item()
            seen += len(y)
        history["train_loss"].append(sum(batch_losses) / len(batch_losses))
        history["train_acc"].append(correct / seen)
    return history
