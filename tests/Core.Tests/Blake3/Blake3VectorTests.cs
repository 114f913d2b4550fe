using System.Text.Json;
using CastoreFs.Core.Blake3;

namespace CastoreFs.Core.Tests.Blake3;

[TestClass]
public sealed class Blake3VectorTests
{
    private static readonly VectorFile Vectors = LoadVectors();

    public static IEnumerable<object[]> Degrees()
    {
        // Every width this CPU can run, so the scalar, AVX2 and AVX-512 paths all meet the vectors.
        foreach (int degree in new[] { 1, 8, 16 })
        {
            if (degree <= Compression.MaxDegree)
            {
                yield return new object[] { degree };
            }
        }
    }

    [TestMethod]
    public void Vector_file_has_the_official_cases()
    {
        Assert.AreEqual(35, Vectors.Cases.Count);
        Assert.AreEqual(102400, Vectors.Cases[^1].InputLength);
    }

    [TestMethod]
    [DynamicData(nameof(Degrees))]
    public void Hash_matches_every_vector_including_extended_output(int degree)
    {
        foreach (var c in Vectors.Cases)
        {
            var expected = Convert.FromHexString(c.Hash);
            var output = new byte[expected.Length];
            new Blake3Hasher(null, 0, degree).Update(Input(c.InputLength)).Finalize(output);
            CollectionAssert.AreEqual(expected, output, $"hash, input length {c.InputLength}");
        }
    }

    [TestMethod]
    [DynamicData(nameof(Degrees))]
    public void Keyed_hash_matches_every_vector(int degree)
    {
        foreach (var c in Vectors.Cases)
        {
            var expected = Convert.FromHexString(c.KeyedHash);
            var output = new byte[expected.Length];
            new Blake3Hasher(System.Text.Encoding.ASCII.GetBytes(Vectors.Key), 16, degree).Update(Input(c.InputLength)).Finalize(output);
            CollectionAssert.AreEqual(expected, output, $"keyed_hash, input length {c.InputLength}");
        }
    }

    [TestMethod]
    public void Keyed_and_derive_key_public_constructors_match_every_vector()
    {
        foreach (var c in Vectors.Cases)
        {
            var keyed = new byte[c.KeyedHash.Length / 2];
            Blake3Hasher.NewKeyed(System.Text.Encoding.ASCII.GetBytes(Vectors.Key)).Update(Input(c.InputLength)).Finalize(keyed);
            CollectionAssert.AreEqual(Convert.FromHexString(c.KeyedHash), keyed, $"keyed_hash, input length {c.InputLength}");

            var derived = new byte[c.DeriveKey.Length / 2];
            Blake3Hasher.NewDeriveKey(Vectors.ContextString).Update(Input(c.InputLength)).Finalize(derived);
            CollectionAssert.AreEqual(Convert.FromHexString(c.DeriveKey), derived, $"derive_key, input length {c.InputLength}");
        }
    }

    [TestMethod]
    public void Default_length_output_is_the_prefix_of_the_extended_output()
    {
        foreach (var c in Vectors.Cases)
        {
            Assert.AreEqual(c.Hash[..64], Blake3Hasher.Hash(Input(c.InputLength)).ToHex(), $"input length {c.InputLength}");
        }
    }

    [TestMethod]
    public void Extended_output_can_start_at_any_position()
    {
        var c = Vectors.Cases[^1];
        var expected = Convert.FromHexString(c.Hash);
        var hasher = new Blake3Hasher().Update(Input(c.InputLength));
        for (int position = 0; position < expected.Length; position += 7)
        {
            var output = new byte[expected.Length - position];
            hasher.FinalizeSeek((ulong)position, output);
            CollectionAssert.AreEqual(expected[position..], output, $"position {position}");
        }
    }

    [TestMethod]
    [DynamicData(nameof(Degrees))]
    public void Incremental_updates_in_any_split_match_one_update(int degree)
    {
        var random = new Random(1234);
        foreach (var c in Vectors.Cases)
        {
            var input = Input(c.InputLength);
            var hasher = new Blake3Hasher(null, 0, degree);
            int at = 0;
            while (at < input.Length)
            {
                int step = Math.Min(input.Length - at, random.Next(0, 5000));
                hasher.Update(input.AsSpan(at, step));
                at += step;
            }

            Assert.AreEqual(c.Hash[..64], hasher.FinalizeDigest().ToHex(), $"input length {c.InputLength}");
        }
    }

    [TestMethod]
    public void Parallel_hash_of_a_large_input_equals_the_sequential_and_scalar_hashes()
    {
        var input = new byte[(37 * 1024 * 1024) + 12345];
        new Random(7).NextBytes(input);
        var scalar = new Blake3Hasher(null, 0, 1).Update(input).FinalizeDigest();
        Assert.AreEqual(scalar, Blake3Hasher.Hash(input));
        Assert.AreEqual(scalar, Blake3Hasher.HashParallel(input));

        // Parallel updates after an unaligned prefix exercise subtree alignment in the CV stack.
        var split = new Blake3Hasher().Update(input.AsSpan(0, 3000)).UpdateParallel(input.AsSpan(3000)).FinalizeDigest();
        Assert.AreEqual(scalar, split);
    }

    private static byte[] Input(int length)
    {
        var input = new byte[length];
        for (int i = 0; i < length; i++)
        {
            input[i] = (byte)(i % 251);
        }

        return input;
    }

    private static VectorFile LoadVectors()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "testdata", "blake3_test_vectors.json");
        return JsonSerializer.Deserialize<VectorFile>(File.ReadAllText(path))
            ?? throw new InvalidDataException("empty BLAKE3 vector file");
    }

    private sealed record VectorFile(
        [property: System.Text.Json.Serialization.JsonPropertyName("key")] string Key,
        [property: System.Text.Json.Serialization.JsonPropertyName("context_string")] string ContextString,
        [property: System.Text.Json.Serialization.JsonPropertyName("cases")] List<VectorCase> Cases);

    private sealed record VectorCase(
        [property: System.Text.Json.Serialization.JsonPropertyName("input_len")] int InputLength,
        [property: System.Text.Json.Serialization.JsonPropertyName("hash")] string Hash,
        [property: System.Text.Json.Serialization.JsonPropertyName("keyed_hash")] string KeyedHash,
        [property: System.Text.Json.Serialization.JsonPropertyName("derive_key")] string DeriveKey);
}
