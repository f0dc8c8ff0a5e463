/**
 * What the JVM tests of the bindings and of the Android `:shell` share: a real
 * hadir-server process on 127.0.0.1 driven through its admin CLI, a P-256 key from
 * java.security (what Android Keystore exposes), camera-like JPEGs, and a tiny test
 * runner (`test`, `expect`, `expectThrows`) that prints "N passed, N failed".
 */
package id.go.hadir.testsupport

import id.go.hadir.core.DeviceKeyProvider
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.runBlocking
import java.awt.Color
import java.awt.image.BufferedImage
import java.io.ByteArrayOutputStream
import java.io.File
import java.math.BigInteger
import java.net.HttpURLConnection
import java.net.URI
import java.security.KeyPairGenerator
import java.security.interfaces.ECPublicKey
import java.security.spec.ECGenParameterSpec
import java.util.Random
import java.util.concurrent.TimeUnit
import javax.imageio.ImageIO

/** A real hadir-server: admin commands on its database, and the server process. */
class Server(val bin: String, val db: File, val selfies: File, val config: File? = null) {
    var process: Process? = null
    var address = ""

    /** Runs `hadir-server <args> --db <db>` and returns its standard output. */
    fun admin(vararg args: String): String {
        val p = ProcessBuilder(listOf(bin) + args + listOf("--db", db.path)).redirectErrorStream(false).start()
        val out = p.inputStream.bufferedReader().readText()
        val err = p.errorStream.bufferedReader().readText()
        check(p.waitFor() == 0) { "hadir-server ${args.toList()} failed: $err" }
        return out
    }

    /** Starts serving on [listen] (default: any free port) and waits until it listens. */
    fun start(listen: String = "127.0.0.1:0") {
        val args = listOf(bin, "serve", "--db", db.path, "--selfie-dir", selfies.path, "--listen", listen) +
            (config?.let { listOf("--config", it.path) } ?: emptyList())
        val pb = ProcessBuilder(args).redirectError(ProcessBuilder.Redirect.INHERIT)
        pb.environment()["RUST_LOG"] = "warn"
        val p = pb.start()
        val reader = p.inputStream.bufferedReader()
        while (true) {
            val line = reader.readLine() ?: error("server exited before listening")
            if (line.startsWith("listening on ")) { address = line.removePrefix("listening on ").trim(); break }
        }
        Thread { reader.lineSequence().forEach { } }.apply { isDaemon = true }.start()
        // However the test ends (a failure, System.exit), the server must not outlive it:
        // it would hold the test's output open and keep its port.
        Runtime.getRuntime().addShutdownHook(Thread { p.destroyForcibly() })
        process = p
    }

    /** Kills the process and waits for it to end. */
    fun stop() {
        process?.destroyForcibly()?.waitFor(10, TimeUnit.SECONDS)
        process = null
    }

    /** The database files (the SQLite file and its WAL companions). */
    private fun dbFiles(): List<File> = listOf(db, File(db.path + "-wal"), File(db.path + "-shm"))

    /** Copies the database files aside (the server must be stopped). */
    fun snapshot(to: File) {
        to.mkdirs()
        dbFiles().forEach { f -> File(to, f.name).also { it.delete(); if (f.exists()) f.copyTo(it) } }
    }

    /** Puts a [snapshot] back, as an admin restoring a backup would (the server must be stopped). */
    fun restore(from: File) {
        dbFiles().forEach { f -> f.delete(); File(from, f.name).takeIf { it.exists() }?.copyTo(f) }
    }

    /** `GET` [path] with an `Authorization` header; the body as text. */
    fun get(path: String, authorization: String): String {
        val c = URI("$url$path").toURL().openConnection() as HttpURLConnection
        c.setRequestProperty("Authorization", authorization)
        check(c.responseCode == 200) { "GET $path: ${c.responseCode}" }
        return c.inputStream.bufferedReader().readText()
    }

    val url get() = "http://$address"
}

/** A P-256 key from java.security, signing with SHA256withECDSA (DER), like Android Keystore;
 *  `chain` stands for Keystore's getCertificateChain (leaf first). */
class JavaSecurityDeviceKey(private val chain: List<ByteArray> = emptyList()) : DeviceKeyProvider {
    private val pair = KeyPairGenerator.getInstance("EC").apply {
        initialize(ECGenParameterSpec("secp256r1"))
    }.generateKeyPair()
    @Volatile var signatures = 0
    @Volatile var chainReads = 0

    override fun attestationChain(): List<ByteArray> {
        chainReads++
        return chain
    }

    override fun publicKey(): ByteArray {
        val w = (pair.public as ECPublicKey).w
        return byteArrayOf(0x04) + fixed32(w.affineX) + fixed32(w.affineY)
    }

    override fun sign(message: ByteArray): ByteArray {
        signatures++
        val s = java.security.Signature.getInstance("SHA256withECDSA")
        s.initSign(pair.private)
        s.update(message)
        return s.sign()
    }

    private fun fixed32(n: BigInteger): ByteArray {
        val raw = n.toByteArray().dropWhile { it == 0.toByte() }.toByteArray()
        return ByteArray(32 - raw.size) + raw
    }
}

/** A camera-like JPEG: a face-like oval over seed-dependent background blocks, with noise. */
fun cameraJpeg(seed: Long): ByteArray {
    val rnd = Random(seed)
    val img = BufferedImage(1280, 960, BufferedImage.TYPE_INT_RGB)
    val blocks = IntArray(24) { 40 + rnd.nextInt(180) }
    val cx = 320 + rnd.nextInt(640); val cy = 280 + rnd.nextInt(400)
    val rx = 150 + rnd.nextInt(120); val ry = 200 + rnd.nextInt(120)
    for (y in 0 until 960) for (x in 0 until 1280) {
        val d = Math.pow((x - cx) / rx.toDouble(), 2.0) + Math.pow((y - cy) / ry.toDouble(), 2.0)
        val base = if (d < 1) 190 - 40 * d else blocks[(y * 4 / 960) * 6 + x * 6 / 1280].toDouble()
        val v = (base + rnd.nextInt(21) - 10).toInt().coerceIn(0, 255)
        img.setRGB(x, y, Color(v, (v * 0.85).toInt(), (v * 0.7).toInt()).rgb)
    }
    val out = ByteArrayOutputStream()
    ImageIO.write(img, "jpg", out)
    return out.toByteArray()
}

/** The tests' offices are in WIB with midnight schedules: keep clear of the first and
 *  last minutes of the WIB day, where "late" and "due" would flip while a test runs. */
fun waitOutWibMidnight() {
    while (true) {
        val minute = ((System.currentTimeMillis() + 7 * 3_600_000L) % 86_400_000L) / 60_000L
        if (minute in 2..1436) return
        Thread.sleep(30_000)
    }
}

/** Counts of the tests run so far. */
object Tally {
    var passed = 0
    var failed = 0

    /** Prints the summary line and exits non-zero if anything failed. */
    fun finish(): Nothing {
        println("$passed passed, $failed failed")
        System.exit(if (failed == 0) 0 else 1)
        error("unreachable")
    }
}

/** Runs one named test; a throw is a failure, printed with its stack. */
fun test(name: String, body: suspend CoroutineScope.() -> Unit) {
    try {
        runBlocking { body() }
        Tally.passed++
        println("ok   $name")
    } catch (e: Throwable) {
        Tally.failed++
        println("FAIL $name: $e")
        e.printStackTrace(System.out)
    }
}

/** Fails with [message] unless [condition]. */
fun expect(condition: Boolean, message: () -> String) { if (!condition) throw AssertionError(message()) }

/** Runs [body] and returns what it threw, which must be an [E]. */
suspend inline fun <reified E : Throwable> expectThrows(body: suspend () -> Unit): E {
    try { body() } catch (e: Throwable) {
        if (e is E) return e
        throw AssertionError("expected ${E::class.simpleName}, got $e")
    }
    throw AssertionError("expected ${E::class.simpleName}, nothing thrown")
}
