/**
 * The device's signing key in the Android Keystore: an EC P-256 key that never leaves
 * the phone's secure hardware (StrongBox where present, else the TEE), created once at
 * the first enrollment with the attestation challenge the core derives from the
 * enrollment code, so the server can check from its attestation certificate chain
 * where the key lives.
 *
 * [KeystoreDeviceKeyStore] creates, finds and deletes the key; [KeystoreDeviceKey] is
 * the core's `DeviceKeyProvider` over it. No rule is decided here.
 *
 * When no key can be created (an old or broken Keystore: [KeystoreDeviceKeyStore.create]
 * returns null), the person still enrolls: the app opens the engine without a provider and
 * the engine generates its own software P-256 key, kept in its database. The server
 * then sees no attestation chain and records the device as software-only, a flag the
 * admin sees, never a refusal.
 */
package id.go.hadir.app.platform

import android.os.Build
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import android.security.keystore.StrongBoxUnavailableException
import android.util.Log
import androidx.annotation.RequiresApi
import id.go.hadir.core.DeviceKeyProvider
import id.go.hadir.core.PlatformException
import id.go.hadir.shell.platform.DeviceKeyStore
import java.math.BigInteger
import java.security.KeyPairGenerator
import java.security.KeyStore
import java.security.PrivateKey
import java.security.ProviderException
import java.security.Signature
import java.security.interfaces.ECPublicKey
import java.security.spec.ECGenParameterSpec

/** The Keystore provider the key lives in. */
private const val ANDROID_KEYSTORE = "AndroidKeyStore"

/** The one alias Hadir's device key is kept under. */
const val DEVICE_KEY_ALIAS = "hadir-device-key"

/** Length of one P-256 coordinate in the uncompressed point. */
private const val COORDINATE_BYTES = 32

private fun androidKeyStore(): KeyStore = KeyStore.getInstance(ANDROID_KEYSTORE).apply { load(null) }

/** Runs a Keystore call, turning any failure into the core's [PlatformException]. */
private inline fun <T> keystoreCall(what: String, call: () -> T): T =
    try {
        call()
    } catch (e: PlatformException) {
        throw e
    } catch (e: Exception) {
        throw PlatformException.Failed("Android Keystore, $what: ${e.javaClass.simpleName}: ${e.message}")
    }

/**
 * The core's view of the Keystore key under [alias]: its public point, ECDSA P-256
 * signatures (ASN.1 DER, `SHA256withECDSA`) and its attestation chain. The key needs
 * no user authentication, so background sync can sign while the phone is locked.
 * Safe from any thread: each signature uses its own [Signature].
 */
class KeystoreDeviceKey internal constructor(private val alias: String) : DeviceKeyProvider {
    private val keyStore: KeyStore by lazy { androidKeyStore() }

    private val privateKey: PrivateKey by lazy {
        keyStore.getKey(alias, null) as? PrivateKey
            ?: throw IllegalStateException("no private key under $alias")
    }

    private val publicPoint: ByteArray by lazy {
        val certificate = keyStore.getCertificate(alias)
            ?: throw IllegalStateException("no certificate under $alias")
        uncompressedPoint(certificate.publicKey as ECPublicKey)
    }

    /** The 65-byte uncompressed point `04 || X || Y`. */
    override fun publicKey(): ByteArray = keystoreCall("public key") { publicPoint.copyOf() }

    /** ECDSA P-256 over SHA-256 of [message], DER-encoded; the Keystore hashes. */
    override fun sign(message: ByteArray): ByteArray = keystoreCall("sign") {
        Signature.getInstance("SHA256withECDSA").run {
            initSign(privateKey)
            update(message)
            sign()
        }
    }

    /**
     * The attestation certificate chain, leaf first, DER. Empty when the platform gave
     * no attestation: a key made without a challenge carries only a self-signed
     * certificate of its own, which attests nothing.
     */
    override fun attestationChain(): List<ByteArray> = keystoreCall("attestation chain") {
        val chain = keyStore.getCertificateChain(alias)
        if (chain == null || chain.size < 2) emptyList() else chain.map { it.encoded }
    }
}

/**
 * Where the device key lives: one alias in the `AndroidKeyStore`. [create] is called
 * once, at the first enrollment; a shared phone's guests sign with the same device key.
 */
class KeystoreDeviceKeyStore(private val alias: String = DEVICE_KEY_ALIAS) : DeviceKeyStore {

    /** The key, if one was created; throws if the Keystore itself cannot be read. */
    override fun existing(): DeviceKeyProvider? = keystoreCall("look up") {
        if (androidKeyStore().containsAlias(alias)) KeystoreDeviceKey(alias) else null
    }

    /**
     * Creates the key (replacing any left by an enrollment that did not finish), with
     * [attestationChallenge] in its attestation: in StrongBox where the phone has one
     * (Android 9+), else in the TEE. A Keystore that cannot attest (some Android 7
     * phones) gets a key without attestation. Returns null when no key can be made at
     * all (logged); see the file's documentation for what happens then.
     */
    override fun create(attestationChallenge: ByteArray): DeviceKeyProvider? =
        try {
            keystoreCall("create") {
                delete()
                if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.P && StrongBox.tryGenerate(alias, attestationChallenge)) {
                    return@keystoreCall KeystoreDeviceKey(alias)
                }
                try {
                    generate(spec(alias, attestationChallenge))
                } catch (e: ProviderException) {
                    // The key is still worth more in the TEE than in software, unattested.
                    delete()
                    generate(spec(alias, attestationChallenge = null))
                }
                KeystoreDeviceKey(alias)
            }
        } catch (e: PlatformException) {
            Log.w(LOG_TAG, "no Keystore key on this phone, the engine's software key is used: ${e.message}")
            try {
                delete()
            } catch (ignored: PlatformException) {
                // Nothing was left to delete, or the Keystore cannot even be read.
            }
            null
        }

    /** Deletes the key (a phone handed to someone else, a failed enrollment). */
    override fun delete() {
        keystoreCall("delete") {
            val keyStore = androidKeyStore()
            if (keyStore.containsAlias(alias)) {
                keyStore.deleteEntry(alias)
            }
        }
    }

    /** StrongBox (API 28+), in its own class so older phones never load its types. */
    @RequiresApi(Build.VERSION_CODES.P)
    private object StrongBox {
        /**
         * Generates the key in StrongBox; false when the phone has none
         * ([StrongBoxUnavailableException]) or its StrongBox refused the key (some
         * vendors report that as a plain [ProviderException]): the TEE is tried next.
         */
        fun tryGenerate(alias: String, challenge: ByteArray): Boolean =
            try {
                generate(spec(alias, challenge) { setIsStrongBoxBacked(true) })
                true
            } catch (e: StrongBoxUnavailableException) {
                false
            } catch (e: ProviderException) {
                false
            }
    }
}

/** The key's parameters: EC P-256, signing with SHA-256, optionally attested. */
private fun spec(
    alias: String,
    attestationChallenge: ByteArray?,
    extra: KeyGenParameterSpec.Builder.() -> Unit = {},
): KeyGenParameterSpec =
    KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_SIGN)
        .setAlgorithmParameterSpec(ECGenParameterSpec("secp256r1"))
        .setDigests(KeyProperties.DIGEST_SHA256)
        .apply { if (attestationChallenge != null) setAttestationChallenge(attestationChallenge) }
        .apply(extra)
        .build()

private fun generate(spec: KeyGenParameterSpec) {
    KeyPairGenerator.getInstance(KeyProperties.KEY_ALGORITHM_EC, ANDROID_KEYSTORE).run {
        initialize(spec)
        generateKeyPair()
    }
}

/** `04 || X || Y`, each coordinate big-endian and left-padded to 32 bytes. */
internal fun uncompressedPoint(key: ECPublicKey): ByteArray =
    byteArrayOf(0x04) + coordinate(key.w.affineX) + coordinate(key.w.affineY)

private fun coordinate(value: BigInteger): ByteArray {
    require(value.signum() >= 0 && value.bitLength() <= COORDINATE_BYTES * 8) { "not a P-256 coordinate" }
    // toByteArray is two's complement: it may add a leading zero byte or be shorter.
    val bytes = value.toByteArray()
    val significant = bytes.copyOfRange(maxOf(0, bytes.size - COORDINATE_BYTES), bytes.size)
    return ByteArray(COORDINATE_BYTES).also { significant.copyInto(it, COORDINATE_BYTES - significant.size) }
}
