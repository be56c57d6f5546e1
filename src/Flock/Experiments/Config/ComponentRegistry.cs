namespace Flock.Experiments.Config;

/// <summary>What <c>flock list</c> shows of a registered component.</summary>
/// <param name="Name">Registered name used in experiment files (e.g. "krum").</param>
/// <param name="Kind">What it is ("topology", "optimizer", ...).</param>
/// <param name="Description">One line on what it does.</param>
/// <param name="Reference">The paper (title, year) or "standard".</param>
/// <param name="Parameters">Its documented parameters.</param>
public sealed record ComponentInfo(string Name, string Kind, string Description, string Reference, IReadOnlyList<Param> Parameters);

/// <summary>
/// Components of one kind registered by name: builds them from a TOML section (the key
/// <c>name</c> selects the component, the other keys are its parameters), with "did you mean" for
/// unknown names. Every registered component lists its parameters for <c>flock list</c>.
/// </summary>
/// <typeparam name="TContext">What a factory needs besides its parameters (node count, seed, ...).</typeparam>
/// <typeparam name="T">The built component type.</typeparam>
public sealed class ComponentRegistry<TContext, T>
{
    private readonly Dictionary<string, (ComponentInfo Info, Func<ConfigSection, TContext, T> Factory)> _entries = new(StringComparer.Ordinal);

    /// <summary>Creates an empty registry for components of <paramref name="kind"/>.</summary>
    public ComponentRegistry(string kind) => Kind = kind;

    /// <summary>The kind of component ("topology", ...).</summary>
    public string Kind { get; }

    /// <summary>Registered components in registration order.</summary>
    public IEnumerable<ComponentInfo> Components => _entries.Values.Select(e => e.Info);

    /// <summary>Registered names.</summary>
    public IEnumerable<string> Names => _entries.Keys;

    /// <summary>Registers a component.</summary>
    /// <exception cref="ArgumentException">The name is already registered.</exception>
    public ComponentRegistry<TContext, T> Add(string name, string description, string reference, IReadOnlyList<Param> parameters, Func<ConfigSection, TContext, T> factory)
    {
        if (!_entries.TryAdd(name, (new ComponentInfo(name, Kind, description, reference, parameters), factory)))
            throw new ArgumentException($"A {Kind} named '{name}' is already registered.", nameof(name));
        return this;
    }

    /// <summary>Whether <paramref name="name"/> is registered.</summary>
    public bool Contains(string name) => _entries.ContainsKey(name);

    /// <summary>Builds the component named by <paramref name="name"/> from <paramref name="section"/>.</summary>
    /// <exception cref="ConfigException">Unknown name (with a suggestion), or a bad parameter.</exception>
    public T Create(string name, ConfigSection section, TContext context, string nameKey = "name")
    {
        if (!_entries.TryGetValue(name, out var e))
            throw new ConfigException($"{section.File}: unknown {Kind} '{name}' at '{section.KeyPath(nameKey)}'.{DidYouMean.Hint(name, _entries.Keys)} Known: {string.Join(", ", _entries.Keys)}.");
        foreach (var p in e.Info.Parameters) section.Expect(p.Name);
        try
        {
            return e.Factory(section, context);
        }
        catch (ArgumentException ex)
        {
            // A constructor rejected a combination of values that single-parameter checks cannot see.
            throw new ConfigException($"{section.File}: invalid [{section.Path}] for {Kind} '{name}': {ex.Message}", ex);
        }
    }

    /// <summary>Reads the <c>name</c> key of <paramref name="section"/> and builds that component.</summary>
    /// <exception cref="ConfigException">Missing or unknown name, or a bad parameter.</exception>
    public T Create(ConfigSection section, TContext context, string? defaultName = null)
    {
        var nameParam = Params.String("name", defaultName, $"which {Kind} to use");
        string name = section.Get(nameParam);
        return Create(name, section, context);
    }
}
