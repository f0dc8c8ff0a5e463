/**
 * The enrollment screen: the first person on a new phone (after consent), or a
 * colleague added to a shared phone as a guest. The code is typed or scanned from the
 * admin's slip (`hadir-enroll:v1:…`); the identifier is checked inline by the core's
 * rules (NIP, NI PPPK, honorer id), so a typo is caught before the network.
 */
package id.go.hadir.shell

import id.go.hadir.core.EnrolledPersonInfo
import id.go.hadir.core.HadirException
import id.go.hadir.core.PersonKind
import id.go.hadir.core.PersonRef
import id.go.hadir.core.checkPersonId
import id.go.hadir.core.parseEnrollmentQr
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.update

/** Who is being enrolled. */
enum class EnrollmentMode {
    /** The phone's owner, on a phone not enrolled yet. */
    OWNER,

    /** A colleague without a phone of their own, on an enrolled phone. */
    GUEST,
}

/** What the enrollment screen shows. */
data class EnrollmentState(
    val mode: EnrollmentMode,
    val code: String = "",
    val personKind: PersonKind = PersonKind.NIP,
    val personId: String = "",
    /** Inline reason the identifier is wrong, under its field. */
    val personError: String? = null,
    /** Inline reason the code is missing. */
    val codeError: String? = null,
    val busy: Boolean = false,
    /** Why the last attempt failed. */
    val problem: Problem? = null,
    /** Set once enrolled: the screen moves on. */
    val enrolled: EnrolledPersonInfo? = null,
    /**
     * A colleague (GUEST) agreed to the consent text themself on this screen: they are
     * their own data subject, so the owner's agreement does not cover them.
     */
    val guestConsent: Boolean = false,
) {
    /** The field's hint for the chosen kind. */
    val personHint: String
        get() = when (personKind) {
            PersonKind.NIP -> "NIP, 18 angka"
            PersonKind.NI_PPPK -> "NI PPPK, 18 angka"
            PersonKind.NON_ASN -> "Nomor pegawai non-ASN dari Pemda"
        }
}

/** The enrollment screen's logic. */
class EnrollmentPresenter(
    private val session: HadirSession,
    private val consent: Consent,
    mode: EnrollmentMode,
) {
    private val mutable = MutableStateFlow(EnrollmentState(mode))

    /** The screen's state. */
    val state: StateFlow<EnrollmentState> = mutable

    /** The code field changed. */
    fun onCodeChanged(code: String) = mutable.update { it.copy(code = code, codeError = null, problem = null) }

    /** The kind of identifier changed. */
    fun onKindChanged(kind: PersonKind) = mutable.update {
        it.copy(personKind = kind, personError = inlineError(kind, it.personId, complete = false), problem = null)
    }

    /** The identifier field changed: checked as soon as an 18-digit id is complete. */
    fun onPersonIdChanged(value: String) = mutable.update {
        it.copy(personId = value, personError = inlineError(it.personKind, value, complete = false), problem = null)
    }

    /** The identifier field lost focus: checked whatever its length. */
    fun onPersonIdDone() = mutable.update { it.copy(personError = inlineError(it.personKind, it.personId, complete = true)) }

    /** The colleague ticked (or unticked) "Saya sudah membaca dan setuju" under the consent text. */
    fun onGuestConsent(agreed: Boolean) = mutable.update { it.copy(guestConsent = agreed, problem = null) }

    /** A QR was scanned: an enrollment slip fills both fields; anything else is explained. */
    fun onQrScanned(text: String) {
        try {
            val qr = parseEnrollmentQr(text)
            mutable.update {
                it.copy(
                    code = qr.enrollmentCode, personKind = qr.person.kind, personId = qr.person.value,
                    personError = null, codeError = null, problem = null,
                )
            }
        } catch (e: HadirException) {
            mutable.update { it.copy(problem = e.toProblem()) }
        }
    }

    /** Enrolls; the state ends with `enrolled` or a `problem`. */
    suspend fun submit() {
        val s = mutable.value
        if (s.busy || s.enrolled != null) return
        val consented = when (s.mode) {
            EnrollmentMode.OWNER -> consent.accepted
            EnrollmentMode.GUEST -> s.guestConsent
        }
        if (!consented) {
            mutable.update { it.copy(problem = Problem("CONSENT_REQUIRED", CONSENT_FIRST, Remedy.CORRECT_INPUT)) }
            return
        }
        val personError = inlineError(s.personKind, s.personId, complete = true)
        val codeError = if (s.code.isBlank()) "Isi kode pendaftaran dari admin." else null
        if (personError != null || codeError != null) {
            mutable.update { it.copy(personError = personError, codeError = codeError) }
            return
        }
        mutable.update { it.copy(busy = true, problem = null) }
        val person = PersonRef(s.personKind, s.personId.trim())
        val wasEnrolled = alreadyEnrolled(person) != null
        val outcome = attempt { session.enroll(s.code.trim(), person) }
            .recoverCatching { failure -> alreadyEnrolled(person)?.takeUnless { wasEnrolled } ?: throw failure }
        outcome.onSuccess { consent.acceptFor(person) }
        mutable.update { current ->
            outcome.fold(
                onSuccess = { current.copy(busy = false, enrolled = it) },
                onFailure = { current.copy(busy = false, problem = it.problem) },
            )
        }
    }

    /**
     * The person, if the server enrolled them although the call failed afterwards (the
     * anchor or configuration fetched after enrollment had no signal): the code is used
     * by then, so asking again would only be refused. The next sync fetches the rest.
     */
    private fun alreadyEnrolled(person: PersonRef): EnrolledPersonInfo? =
        attempt { session.engine?.takeIf { it.deviceId() != null }?.people()?.firstOrNull { it.person == person } }.getOrNull()

    private fun inlineError(kind: PersonKind, value: String, complete: Boolean): String? {
        val typed = value.trim()
        if (typed.isEmpty()) return if (complete) "Isi nomor identitas Anda." else null
        val long = kind != PersonKind.NON_ASN && typed.length >= 18
        if (!complete && !long) return null
        return try {
            checkPersonId(PersonRef(kind, typed))
            null
        } catch (e: HadirException) {
            e.toProblem().message
        }
    }

    private companion object {
        const val CONSENT_FIRST = "Baca dan setujui pemberitahuan data pribadi terlebih dahulu."
    }
}
