/**
 * What a screen shows when something failed: the engine's stable code and its
 * Indonesian message, unchanged (the core words them), plus what the person can do.
 * One mapping from the engine's exception; nothing else invents error texts.
 */
package id.go.hadir.shell

import id.go.hadir.core.HadirException

/** What the person can do about a problem. */
enum class Remedy {
    /** Try the same thing again (now or in a moment). */
    RETRY,

    /** Correct what they typed or chose. */
    CORRECT_INPUT,

    /** Take the selfie again. */
    RETAKE_SELFIE,

    /** Scan the office monitor's QR again. */
    RESCAN_QR,

    /** Open the phone's settings (a permission, location, the battery saver). */
    OPEN_SETTINGS,

    /** Ask the admin (BKPSDM) — a new enrollment code, a revoked device. */
    ASK_ADMIN,
}

/** A failure as a screen shows it. */
data class Problem(
    /** Stable machine code (the core's or the server's), for support calls and logs. */
    val code: String,
    /** Indonesian message, shown as is. */
    val message: String,
    /** What the person can do. */
    val remedy: Remedy,
    /** The input at fault (`person`, `qr_token`...), when there is one. */
    val field: String? = null,
)

/** The one mapping from the engine's exception to what a screen shows. */
fun HadirException.toProblem(): Problem = when (this) {
    is HadirException.InvalidInput ->
        Problem(code, staffMessage, if (code == "QR_RESCAN") Remedy.RESCAN_QR else Remedy.CORRECT_INPUT, field)
    is HadirException.NotReady -> Problem(code, staffMessage, Remedy.ASK_ADMIN)
    is HadirException.Photo -> Problem(code, staffMessage, Remedy.RETAKE_SELFIE)
    is HadirException.Storage -> Problem(code, staffMessage, Remedy.RETRY)
    is HadirException.Network -> Problem(code, staffMessage, Remedy.RETRY)
    is HadirException.RateLimited -> Problem(code, staffMessage, Remedy.RETRY)
    is HadirException.Overloaded -> Problem(code, staffMessage, Remedy.RETRY)
    is HadirException.Refused -> Problem(code, staffMessage, refusedRemedy(code))
    is HadirException.Platform -> Problem(code, staffMessage, Remedy.RETRY)
}

/** Refusals the person fixes themselves, and those only an admin can. */
private fun refusedRemedy(code: String): Remedy = when {
    code.startsWith("ENROLL_ATTESTATION") -> Remedy.RETRY
    code.startsWith("ENROLL_") || code.startsWith("AUTH_") -> Remedy.ASK_ADMIN
    code.startsWith("QR_") -> Remedy.RESCAN_QR
    else -> Remedy.RETRY
}

/**
 * Runs [body]; an engine failure becomes a [Problem], and so does anything else a
 * platform adapter threw (a Keystore that cannot be read), so a screen never waits on
 * a spinner for ever. Cancellation passes through.
 */
internal inline fun <T> attempt(body: () -> T): Result<T> = try {
    Result.success(body())
} catch (e: HadirException) {
    Result.failure(ProblemException(e.toProblem()))
} catch (e: kotlinx.coroutines.CancellationException) {
    throw e
} catch (e: Exception) {
    Result.failure(ProblemException(unexpected(e)))
}

/** Carries a [Problem] through [Result]. */
class ProblemException(val problem: Problem) : Exception(problem.code)

/** What a screen shows for a failure no other rule names: the class for support, a generic text. */
private fun unexpected(e: Exception) =
    Problem("SHELL_UNEXPECTED", "Terjadi kesalahan tak terduga (${e.javaClass.simpleName}). Coba lagi; bila berulang, hubungi admin.", Remedy.RETRY)

/** The [Problem] of a failed [Result] (or any exception). */
val Throwable.problem: Problem
    get() = when (this) {
        is ProblemException -> problem
        is HadirException -> toProblem()
        is Exception -> unexpected(this)
        else -> unexpected(RuntimeException(this))
    }
